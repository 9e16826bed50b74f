import { html } from 'htm/preact';
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import type { HistoryMinute } from '../src/protocol/operator-view.js';

const HEIGHT = 180;

function dataOf(history: HistoryMinute[]): uPlot.AlignedData {
  return [history.map((h) => Date.parse(h.minute) / 1000), history.map((h) => h.issued), history.map((h) => h.revoked)];
}

/** Leases issued and revoked per minute over the last hour (uPlot), redrawn as events count into the current minute. */
export function IssueChart(props: { history: HistoryMinute[] }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  useEffect(() => {
    const el = box.current;
    if (el === null) return;
    const bars = uPlot.paths.bars?.({ size: [0.35, 12], align: 0 });
    const chart = new uPlot(
      {
        width: Math.max(240, el.clientWidth),
        height: HEIGHT,
        legend: { show: true },
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(4, max)] } },
        axes: [{}, { label: 'leases / minute' }],
        series: [
          {},
          { label: 'issued', stroke: '#2f7d32', fill: 'rgba(47,125,50,0.35)', ...(bars === undefined ? {} : { paths: bars }) },
          { label: 'revoked', stroke: '#b3261e', fill: 'rgba(179,38,30,0.35)', ...(bars === undefined ? {} : { paths: bars }) },
        ],
      },
      dataOf(props.history),
      el,
    );
    plot.current = chart;
    const resize = new ResizeObserver(() => chart.setSize({ width: Math.max(240, el.clientWidth), height: HEIGHT }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      chart.destroy();
      plot.current = null;
    };
  }, []);
  useEffect(() => {
    plot.current?.setData(dataOf(props.history));
  }, [props.history]);
  return html`
    <section aria-labelledby="chart-title">
      <h2 id="chart-title">Issued and revoked per minute</h2>
      <div ref=${box} class="chart" id="chart" role="img" aria-label=${`leases issued and revoked per minute, last ${props.history.length} minutes`}></div>
    </section>
  `;
}
