/** Pure display helpers. */
export function formatRate(rate: number, unit = 'B'): string {
  if (unit === 'B') {
    const mib = rate / (1024 * 1024);
    return mib >= 1 ? `${mib.toFixed(1)} MiB/s` : `${(rate / 1024).toFixed(0)} KiB/s`;
  }
  return `${rate.toFixed(1)} ${unit}/s`;
}

export function formatEta(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

export function formatTime(ms: number): string {
  const d = new Date(ms);
  return d.toLocaleTimeString([], { hour12: false }) + '.' + String(d.getMilliseconds()).padStart(3, '0');
}
