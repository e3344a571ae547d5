// Output our own guest commands print in "== name" sections (a tracer's collect, the
// workload versions), split back into its sections on the host.

/** Split "== name" sectioned output into sections: name -> the lines after its header. */
export function sections(raw: string): Record<string, string> {
  const out: Record<string, string> = {};
  let cur: string | undefined;
  for (const line of raw.split('\n')) {
    const h = /^== ([\w.-]+)$/.exec(line);
    if (h) {
      cur = h[1];
      out[cur] = '';
    } else if (cur !== undefined) out[cur] += `${line}\n`;
  }
  return out;
}
