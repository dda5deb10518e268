//go:build !linux

package azemu

import "errors"

const BlobFSCommand = "__azemu-blobfs"

func blobFSMain(argv []string, stdio IO) int { return 1 }

func hostMountBlob(src, folder, dir string, ro, nolock bool) error {
	return errors.New("Blob NFS mounts need Linux")
}
