package vmprov

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/azlin-dev/azlin/internal/azcli"
	"github.com/azlin-dev/azlin/internal/tags"
)

// VM is what azlin knows about a VM, from `az vm show/list [-d]`.
type VM struct {
	ID                string // its ARM resource ID
	Name              string
	ResourceGroup     string
	Region            string
	Size              string
	PowerState        string // az's words, e.g. "VM running"; "" unless read with -d
	ProvisioningState string
	PublicIP          string // the first public IP; "" when none (or not read with -d)
	PrivateIP         string
	Tags              map[string]string
	NICs              []string // names of its network interfaces
	OSDisk            string   // name of its OS disk
	OSDiskSKU         string   // its type, e.g. "Premium_LRS" ("" when az did not say)
	OSDiskGiB         int      // its size
}

// State is the VM's state in one word: "running", "deallocated", "stopped",
// "starting", ..., from its power state, else from its provisioning state.
func (v VM) State() string {
	if s := strings.TrimPrefix(v.PowerState, "VM "); s != "" {
		return strings.ToLower(s)
	}
	if v.ProvisioningState != "" {
		return strings.ToLower(v.ProvisioningState)
	}
	return "unknown"
}

// Running reports whether Azure says the VM is running.
func (v VM) Running() bool { return v.PowerState == "VM running" }

// SharedHome is the name of the shared-home storage the VM mounts, "" if none.
func (v VM) SharedHome() string { return v.Tags[tags.Storage] }

// Managed reports whether azlin created the VM (it carries tags.Managed=true).
func (v VM) Managed() bool { return v.Tags[tags.Managed] == "true" }

// vmJSON is the part of az's VM output azlin reads (az-shapes/vm-show-d.json).
type vmJSON struct {
	ID                string            `json:"id"`
	Name              string            `json:"name"`
	ResourceGroup     string            `json:"resourceGroup"`
	Location          string            `json:"location"`
	PowerState        string            `json:"powerState"`
	ProvisioningState string            `json:"provisioningState"`
	PublicIps         string            `json:"publicIps"`
	PrivateIps        string            `json:"privateIps"`
	Tags              map[string]string `json:"tags"`
	HardwareProfile   struct {
		VMSize string `json:"vmSize"`
	} `json:"hardwareProfile"`
	NetworkProfile struct {
		NetworkInterfaces []struct {
			ID string `json:"id"`
		} `json:"networkInterfaces"`
	} `json:"networkProfile"`
	StorageProfile struct {
		OsDisk struct {
			Name        string `json:"name"`
			DiskSizeGb  int    `json:"diskSizeGb"`
			ManagedDisk struct {
				StorageAccountType string `json:"storageAccountType"`
			} `json:"managedDisk"`
		} `json:"osDisk"`
	} `json:"storageProfile"`
}

func (j vmJSON) vm() VM {
	v := VM{
		ID:                j.ID,
		Name:              j.Name,
		ResourceGroup:     j.ResourceGroup,
		Region:            j.Location,
		Size:              j.HardwareProfile.VMSize,
		PowerState:        j.PowerState,
		ProvisioningState: j.ProvisioningState,
		PublicIP:          firstOf(j.PublicIps),
		PrivateIP:         firstOf(j.PrivateIps),
		Tags:              j.Tags,
		OSDisk:            j.StorageProfile.OsDisk.Name,
		OSDiskSKU:         j.StorageProfile.OsDisk.ManagedDisk.StorageAccountType,
		OSDiskGiB:         j.StorageProfile.OsDisk.DiskSizeGb,
	}
	if v.Tags == nil {
		v.Tags = map[string]string{}
	}
	for _, n := range j.NetworkProfile.NetworkInterfaces {
		v.NICs = append(v.NICs, path.Base(n.ID))
	}
	return v
}

// firstOf returns the first address of az's comma-joined list ("" when none).
func firstOf(list string) string {
	first, _, _ := strings.Cut(list, ",")
	return strings.TrimSpace(first)
}

// Show reads one VM; with details (-d) it includes its power state and IPs.
// A missing VM is an error that errors.Is azcli.ErrNotFound.
func (m *Manager) Show(ctx context.Context, rg, name string, details bool) (VM, error) {
	args := []string{"vm", "show"}
	if details {
		args = append(args, "-d")
	}
	var j vmJSON
	if err := m.az.Read(ctx, &j, append(args, "-g", rg, "-n", name)...); err != nil {
		return VM{}, notFoundHint(err, rg, name)
	}
	return j.vm(), nil
}

// notFoundHint makes az's not-found errors say what to do next.
func notFoundHint(err error, rg, name string) error {
	switch {
	case errors.Is(err, azcli.ErrResourceGroupNotFound):
		return fmt.Errorf("resource group %s does not exist (create it: az group create -n %s -l REGION): %w", rg, rg, err)
	case errors.Is(err, azcli.ErrNotFound):
		return fmt.Errorf("there is no VM %s in resource group %s (azlin list shows the VMs there): %w", name, rg, err)
	}
	return err
}

// List returns every VM in the resource group with its state and IPs, sorted
// by name: one `az vm list -d` call.
func (m *Manager) List(ctx context.Context, rg string) ([]VM, error) {
	var js []vmJSON
	if err := m.az.Read(ctx, &js, "vm", "list", "-d", "-g", rg); err != nil {
		if errors.Is(err, azcli.ErrResourceGroupNotFound) {
			return nil, notFoundHint(err, rg, "")
		}
		return nil, err
	}
	vms := make([]VM, 0, len(js))
	for _, j := range js {
		vms = append(vms, j.vm())
	}
	sort.Slice(vms, func(i, k int) bool { return vms[i].Name < vms[k].Name })
	return vms, nil
}

// CheckNameFree fails when a VM named name already exists in rg, so that
// `new` never creates (or updates) a second VM under a taken name.
func (m *Manager) CheckNameFree(ctx context.Context, rg, name string) error {
	vm, err := m.Show(ctx, rg, name, false)
	switch {
	case err == nil:
		return fmt.Errorf("a VM named %s already exists in resource group %s (%s, %s); nothing was created. "+
			"Pick another name with --name, or delete that VM first: azlin delete %s", name, rg, vm.Size, vm.Region, name)
	case errors.Is(err, azcli.ErrResourceGroupNotFound):
		return err
	case errors.Is(err, azcli.ErrNotFound):
		return nil
	}
	return fmt.Errorf("checking whether the name %s is free: %w", name, err)
}

// CreateSpec is everything `az vm create` needs for an azlin VM.
type CreateSpec struct {
	ResourceGroup  string
	Name           string
	Region         string
	Size           string
	Image          string // "" = DefaultImage
	PublicKeyPath  string // azlin's SSH public key file
	CustomDataPath string // where Create writes the cloud-init document passed as custom data
	VNet, Subnet   string // the azlin subnet the VM joins
	Tags           map[string]string
	NoWait         bool // return once Azure accepted the request
}

// Args returns the az arguments that create the VM.
func (s CreateSpec) Args() []string {
	image := s.Image
	if image == "" {
		image = DefaultImage
	}
	r := ResourcesFor(s.Name)
	args := []string{"vm", "create", "-g", s.ResourceGroup, "-n", s.Name,
		"--image", image, "--size", s.Size,
		"--admin-username", AdminUser, "--ssh-key-values", s.PublicKeyPath,
		"--custom-data", s.CustomDataPath,
		"--vnet-name", s.VNet, "--subnet", s.Subnet,
		"--public-ip-address", r.PublicIP, "--nsg", NSGFor(s.VNet), "--nsg-rule", "NONE", "--os-disk-name", r.OSDisk,
		"--tags"}
	args = append(args, s.tagArgs()...)
	args = append(args, "-l", s.Region)
	if s.NoWait {
		args = append(args, "--no-wait")
	}
	return args
}

// tagArgs are the "key=value" words of --tags, tags.Managed first, the rest sorted.
func (s CreateSpec) tagArgs() []string {
	out := []string{tags.Managed + "=true"}
	keys := make([]string, 0, len(s.Tags))
	for k := range s.Tags {
		if k != tags.Managed {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		out = append(out, k+"="+s.Tags[k])
	}
	return out
}

// Create writes the cloud-init document to spec.CustomDataPath and runs
// `az vm create`, which (without NoWait) returns once Azure has provisioned
// the VM. On failure the error says what may exist and how to remove it.
func (m *Manager) Create(ctx context.Context, spec CreateSpec, cloud CloudConfig) error {
	doc, err := cloud.Render()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(spec.CustomDataPath), 0o700); err != nil {
		return fmt.Errorf("writing the VM's cloud-init file: %w", err)
	}
	if err := os.WriteFile(spec.CustomDataPath, doc, 0o600); err != nil {
		return fmt.Errorf("writing the VM's cloud-init file: %w", err)
	}
	if err := m.az.Mutate(ctx, nil, spec.Args()...); err != nil {
		if ctx.Err() != nil {
			return err
		}
		return fmt.Errorf("creating VM %s failed: %w\nSome of its parts (network interface, public IP, security group, disk) may exist now; "+
			"see them with: az resource list -g %s -o table; remove them with: azlin delete %s", spec.Name, err, spec.ResourceGroup, spec.Name)
	}
	return nil
}

// DeletePlan is what Delete removes: the VM (when it still exists) and the
// resources `az vm delete` leaves behind.
type DeletePlan struct {
	ResourceGroup string
	Name          string
	VM            *VM // nil when the VM is already gone: only leftovers remain
	NICs          []string
	OSDisk        string
	PublicIP      string
}

// PlanDelete reads the VM (one `az vm show`) and returns what deleting it
// removes. The names of its NICs and OS disk come from Azure when the VM
// exists, else from azlin's naming (ResourcesFor), so that re-running a
// delete that stopped half-way removes the rest. A VM without tags.Managed is
// refused: azlin deletes only its own VMs.
func (m *Manager) PlanDelete(ctx context.Context, rg, name string) (DeletePlan, error) {
	r := ResourcesFor(name)
	p := DeletePlan{ResourceGroup: rg, Name: name, NICs: []string{r.NIC}, OSDisk: r.OSDisk, PublicIP: r.PublicIP}
	vm, err := m.Show(ctx, rg, name, false)
	switch {
	case errors.Is(err, azcli.ErrResourceGroupNotFound):
		return p, err
	case errors.Is(err, azcli.ErrNotFound):
		return p, nil
	case err != nil:
		return p, err
	}
	if !vm.Managed() {
		return p, fmt.Errorf("VM %s in resource group %s was not created by azlin (it has no tag %s=true); azlin deletes only its own VMs. "+
			"Delete it with az if you mean to: az vm delete -g %s -n %s", name, rg, tags.Managed, rg, name)
	}
	p.VM = &vm
	if len(vm.NICs) > 0 {
		p.NICs = vm.NICs
	}
	if vm.OSDisk != "" {
		p.OSDisk = vm.OSDisk
	}
	return p, nil
}

// Delete removes the VM, then its NICs and OS disk, then its public IP
// (each stage needs the one before it gone: a disk or NIC in use by a VM, or
// an IP in use by a NIC, cannot be deleted). The shared NSG (NSGFor) stays.
// Something already gone counts as removed, so Delete can be re-run.
// progress, if set, is told of each stage.
func (m *Manager) Delete(ctx context.Context, p DeletePlan, progress func(string)) error {
	if progress == nil {
		progress = func(string) {}
	}
	rg := p.ResourceGroup
	type call struct {
		what string
		args []string
	}
	var stages [][]call
	if p.VM != nil {
		stages = append(stages, []call{{"VM " + p.Name, []string{"vm", "delete", "-g", rg, "-n", p.Name, "--yes"}}})
	}
	var second []call
	for _, nic := range p.NICs {
		second = append(second, call{"network interface " + nic, []string{"network", "nic", "delete", "-g", rg, "-n", nic}})
	}
	second = append(second, call{"OS disk " + p.OSDisk, []string{"disk", "delete", "-g", rg, "-n", p.OSDisk, "--yes"}})
	stages = append(stages, second, []call{
		{"public IP " + p.PublicIP, []string{"network", "public-ip", "delete", "-g", rg, "-n", p.PublicIP}},
	})

	var done []string
	for _, stage := range stages {
		names := make([]string, len(stage))
		for i, c := range stage {
			names[i] = c.what
		}
		progress("Deleting " + strings.Join(names, ", "))
		errs := make([]error, len(stage))
		var wg sync.WaitGroup
		for i, c := range stage {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := m.az.Mutate(ctx, nil, c.args...)
				if err != nil && !errors.Is(err, azcli.ErrNotFound) {
					errs[i] = fmt.Errorf("deleting %s: %w", c.what, err)
				}
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			gone := "nothing yet"
			if len(done) > 0 {
				gone = strings.Join(done, ", ")
			}
			return fmt.Errorf("%w\nAlready removed: %s. Run the same azlin delete again to remove the rest", err, gone)
		}
		done = append(done, names...)
	}
	return nil
}
