/** Durations in words, as the panel, the chart and the edit messages show them. Pure. */

/** "1h 02m", "3m 05s", "42s", "0.5s". */
export function formatDuration(s: number): string {
  if (!Number.isFinite(s)) {
    return '–';
  }
  const sign = s < 0 ? '-' : '';
  let a = Math.abs(s);
  if (a < 10 && a !== Math.round(a)) {
    return `${sign}${a.toFixed(1)}s`;
  }
  a = Math.round(a);
  const h = Math.floor(a / 3600);
  const m = Math.floor((a % 3600) / 60);
  const sec = a % 60;
  if (h > 0) {
    return `${sign}${h}h ${String(m).padStart(2, '0')}m`;
  }
  if (m > 0) {
    return `${sign}${m}m ${String(sec).padStart(2, '0')}s`;
  }
  return `${sign}${sec}s`;
}
