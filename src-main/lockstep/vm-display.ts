/**
 * Pure: the screen of a guest VM. A user VM gets SeaBIOS's standard VGA and QEMU's VNC server on a
 * unix socket under the VM's run directory — nothing listens on a port, only the host itself (and
 * the app, through its SSH connection) reaches it. The demo guest has no screen (serial only).
 */
export function displayArgs(boot: 'kernel' | 'disk', vncSocket: string): string[] {
  const noScreen = ['-vga', 'none'];
  if (boot === 'kernel') return noScreen;
  if (!/^\/[A-Za-z0-9._/-]+$/.test(vncSocket) || vncSocket.includes('..'))
    throw new Error(`displayArgs: refusing the VNC socket path ${JSON.stringify(vncSocket)} (an absolute path without commas or spaces)`);
  const screen = ['-vga', 'std', '-vnc', `unix:${vncSocket}`];
  return screen;
}
