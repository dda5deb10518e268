package azemu

import "github.com/azlin-dev/azlin/localcloud/azrules"

// ruleBlobNFSNoLinks: a Blob NFS 3.0 mount has no hard links and no
// byte-range locks without nolock (blobfs_linux.go); off, it is a bind
// mount like a Files mount.
const ruleBlobNFSNoLinks = "blob-nfs-no-hard-links"

func init() {
	azrules.Known[ruleBlobNFSNoLinks] = "a Blob NFS 3.0 mount refuses hard links (Operation not supported) and, without nolock, byte-range locks (No locks available)"
}
