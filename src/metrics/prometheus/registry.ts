import { CONTENT_TYPE, renderMetric } from './exposition.ts';
import type { Collectable } from './metric.ts';

/** The metrics one `/metrics` endpoint exposes, in the order they were registered. */
export class Registry {
  readonly contentType = CONTENT_TYPE;
  private readonly collectables = new Map<string, Collectable>();
  private readonly collectors: (() => void | Promise<void>)[] = [];

  registerMetric(metric: Collectable): void {
    if (this.collectables.has(metric.name)) throw new Error(`A metric with the name ${metric.name} has already been registered`);
    this.collectables.set(metric.name, metric);
  }

  /** Runs before every exposition: for metrics whose values are read at scrape time. */
  addCollector(collect: () => void | Promise<void>): void {
    this.collectors.push(collect);
  }

  getSingleMetric(name: string): Collectable | undefined {
    return this.collectables.get(name);
  }

  /** The exposition text; a blank line between metrics, as prom-client wrote it. */
  async metrics(): Promise<string> {
    await Promise.all(this.collectors.map((collect) => collect()));
    const blocks: string[] = [];
    for (const metric of this.collectables.values()) blocks.push(renderMetric(metric.get()));
    return blocks.join('\n');
  }

  resetMetrics(): void {
    for (const metric of this.collectables.values()) metric.reset();
  }
}
