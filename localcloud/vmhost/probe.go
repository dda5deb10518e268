package vmhost

// ProbeMark is the socket mark (SO_MARK) on this package's own connections
// to a host's sshd: the readiness probe of a boot and the wait for a stopped
// sshd's port to close. Whoever filters SSH to hosts (the emulator's NSG
// firewall) lets packets with this mark through, so a host whose NSG denies
// SSH still boots and stops, while every other client is dropped.
const ProbeMark = 0x617a656d // "azem"
