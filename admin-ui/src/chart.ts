// A small line chart as SVG, drawn from numbers without a library: the dashboard's live view
// of connections and stanza rates. Each series gets its own scale (its maximum at the top), so
// a few connections and thousands of stanzas a second share one picture; the legend says the
// figures.
const SVG = 'http://www.w3.org/2000/svg';
const WIDTH = 600;
const HEIGHT = 120;

export interface Series {
  label: string;
  /** A CSS class giving the line its colour. */
  className: string;
  values: number[];
  /** How the latest value reads in the legend. */
  format(v: number): string;
}

function svg(tag: string, attrs: Record<string, string>): SVGElement {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  return el;
}

function points(values: number[], slots: number): string {
  const max = Math.max(1, ...values);
  const step = WIDTH / Math.max(1, slots - 1);
  const first = slots - values.length;
  return values.map((v, i) => `${((first + i) * step).toFixed(1)},${(HEIGHT - (v / max) * (HEIGHT - 4) - 2).toFixed(1)}`).join(' ');
}

/** The chart of `series` over `slots` samples (the newest on the right), with its legend. */
export function lineChart(series: Series[], slots: number, title: string): HTMLElement {
  const chart = svg('svg', { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, class: 'chart', role: 'img', 'aria-label': title, preserveAspectRatio: 'none' });
  for (const s of series) {
    if (s.values.length > 1) chart.append(svg('polyline', { points: points(s.values, slots), class: s.className, fill: 'none' }));
  }
  const legend = document.createElement('ul');
  legend.className = 'legend';
  for (const s of series) {
    const item = document.createElement('li');
    item.className = s.className;
    const last = s.values[s.values.length - 1];
    item.textContent = `${s.label}: ${last === undefined ? '…' : s.format(last)} (peak ${s.format(Math.max(0, ...s.values))})`;
    legend.append(item);
  }
  const figure = document.createElement('figure');
  figure.className = 'chart';
  figure.append(chart, legend);
  return figure;
}
