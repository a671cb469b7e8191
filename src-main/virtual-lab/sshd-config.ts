/** Pure: the sshd_config of one lab host. */
export function sshdConfig(o: { address: string; port: number; hostKey: string; authorizedKeys: string; pidFile: string }): string {
  return [
    `# Lockstep Lab virtual host: generated, do not edit`,
    `ListenAddress ${o.address}`,
    `Port ${o.port}`,
    `HostKey ${o.hostKey}`,
    `PidFile ${o.pidFile}`,
    // the lab key for root, and a user's own ~/.ssh/authorized_keys for other users
    `AuthorizedKeysFile ${o.authorizedKeys} .ssh/authorized_keys`,
    `PermitRootLogin prohibit-password`,
    `PasswordAuthentication no`,
    `KbdInteractiveAuthentication no`,
    `UsePAM no`,
    `StrictModes no`,
    `UseDNS no`,
    `X11Forwarding no`,
    `AllowTcpForwarding yes`,
    `AllowStreamLocalForwarding yes`,
    `MaxSessions 64`,
    `MaxStartups 64:30:128`,
    `ClientAliveInterval 15`,
    `Subsystem sftp internal-sftp`,
    '',
  ].join('\n');
}
