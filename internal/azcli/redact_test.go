package azcli_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/azlin-dev/azlin/internal/azcli"
)

func TestRedact(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{
			"az storage share list --account-key c2Vj/cmV0+a2V5== -n x",
			"az storage share list --account-key REDACTED -n x",
		},
		{
			"--sas-token 'sv=2022&sig=abc' --password=\"p w\" --x y",
			"--sas-token REDACTED --password=REDACTED --x y",
		},
		{
			"https://a.blob.core.windows.net/c?sv=2022-11-02&sig=Zm9v%3D",
			"https://a.blob.core.windows.net/c?sv=2022-11-02&sig=REDACTED",
		},
		{
			"DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=Zm9vYmFy==;EndpointSuffix=core.windows.net",
			"DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=REDACTED;EndpointSuffix=core.windows.net",
		},
		{
			`[{"creationTime": "2025-11-05T04:15:55+00:00", "keyName": "key1", "permissions": "FULL", "value": "Zm9v\"YmFy=="}]`,
			`[{"creationTime": "2025-11-05T04:15:55+00:00", "keyName": "key1", "permissions": "FULL", "value": "REDACTED"}]`,
		},
		{
			`{"key1":"abc","adminPassword":"hunter2","name":"acct"}`,
			`{"key1":"REDACTED","adminPassword":"REDACTED","name":"acct"}`,
		},
		{
			"Authorization: Bearer eyJ0eXAiOiJKV1Qi.eyJhdWQ.sig-_x",
			"Authorization: Bearer REDACTED",
		},
		{
			`{"value":[{"code":"ProvisioningState/succeeded"}]}`,
			`{"value":[{"code":"ProvisioningState/succeeded"}]}`,
		},
		{
			"az storage account show -g rg -n acct",
			"az storage account show -g rg -n acct",
		},
	} {
		assert.Equal(t, tc.want, azcli.Redact(tc.in), "Redact(%q)", tc.in)
	}
}

func TestRedactArgs(t *testing.T) {
	in := []string{"storage", "file", "upload", "--account-key", "Zm9v", "--sas-token=sv&sig=x", "--source", "https://x/y?sig=abc&se=1", "--account-name", "acct"}
	got := azcli.RedactArgs(in)
	assert.Equal(t, []string{"storage", "file", "upload", "--account-key", "REDACTED", "--sas-token=REDACTED", "--source", "https://x/y?sig=REDACTED&se=1", "--account-name", "acct"}, got)
	assert.Equal(t, "Zm9v", in[4], "the caller's slice is not changed")
}
