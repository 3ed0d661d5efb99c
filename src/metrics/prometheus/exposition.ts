/**
 * The Prometheus text exposition format, version 0.0.4: `# HELP` and `# TYPE` lines, then one
 * `name{label="value",...} number` line per sample.
 */

export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export type MetricType = 'counter' | 'gauge' | 'histogram';

/** Label values as they are exposed; a label missing from a series is not written. */
export type Labels = Readonly<Record<string, string | number>>;

export interface Sample {
  labels: Labels;
  value: number;
  /** The line's metric name when it is not the metric's own (`_bucket`, `_sum`, `_count`). */
  metricName?: string;
}

export interface MetricSnapshot {
  name: string;
  help: string;
  type: MetricType;
  values: Sample[];
}

const LABEL_SPECIALS = /[\\"\n]/;
const HELP_SPECIALS = /[\\\n]/;

export function escapeLabelValue(value: string): string {
  if (!LABEL_SPECIALS.test(value)) return value;
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

export function escapeHelp(help: string): string {
  if (!HELP_SPECIALS.test(help)) return help;
  return help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** Go's ParseFloat reads what String() writes (`1e-7`, `1.5e+21`); only the non-finite values differ. */
export function formatNumber(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

function formatLabels(labels: Labels): string {
  let text = '';
  for (const name in labels) {
    const value = labels[name] as string | number;
    const shown = typeof value === 'number' ? formatNumber(value) : escapeLabelValue(value);
    text += `${text === '' ? '{' : ','}${name}="${shown}"`;
  }
  return text === '' ? '' : `${text}}`;
}

export function renderMetric(metric: MetricSnapshot): string {
  let text = `# HELP ${metric.name} ${escapeHelp(metric.help)}\n# TYPE ${metric.name} ${metric.type}\n`;
  for (const sample of metric.values) {
    text += `${sample.metricName ?? metric.name}${formatLabels(sample.labels)} ${formatNumber(sample.value)}\n`;
  }
  return text;
}
