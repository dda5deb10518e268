package vmhost

import (
	"net"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// probeDial connects to addr with ProbeMark on the socket (see ProbeMark).
func probeDial(addr string, timeout time.Duration) (net.Conn, error) {
	d := net.Dialer{Timeout: timeout, Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		if err := rc.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_MARK, ProbeMark)
		}); err != nil {
			return err
		}
		return serr
	}}
	return d.Dial("tcp", addr)
}
