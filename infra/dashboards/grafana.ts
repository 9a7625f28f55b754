/**
 * A small builder for Grafana dashboard JSON (schema 39): enough for time series and stat panels over
 * Prometheus, with the datasource as a variable so the dashboards work whatever the datasource's uid is.
 */

export type Unit = 'percentunit' | 'percent' | 's' | 'bytes' | 'reqps' | 'short' | 'dtdurations';

export type PanelSpec = {
  title: string;
  kind: 'timeseries' | 'stat';
  unit: Unit;
  targets: Array<{ expr: string; legend?: string }>;
  /** Grid width out of 24. */
  width?: number;
  description?: string;
  /** Stat panels: the value at which the background turns red. */
  redAbove?: number;
};

const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };
const ROW_HEIGHT = 8;

export function dashboard(args: { uid: string; title: string; tags: string[]; rows: PanelSpec[][]; variables?: object[] }) {
  let id = 1;
  const panels: object[] = [];
  args.rows.forEach((row, rowIndex) => {
    let x = 0;
    for (const p of row) {
      const w = p.width ?? Math.floor(24 / row.length);
      panels.push(panel(id++, p, { x, y: rowIndex * ROW_HEIGHT, w, h: ROW_HEIGHT }));
      x += w;
    }
  });
  return {
    uid: args.uid,
    title: args.title,
    tags: args.tags,
    timezone: 'utc',
    schemaVersion: 39,
    editable: false,
    refresh: '1m',
    time: { from: 'now-6h', to: 'now' },
    templating: {
      list: [
        { name: 'datasource', label: 'Data source', type: 'datasource', query: 'prometheus', current: {}, hide: 0 },
        ...(args.variables ?? []),
      ],
    },
    panels,
  };
}

/** A query variable over label values, for filtering panels by namespace, service, and so on. */
export function labelVariable(name: string, label: string, query: string) {
  return {
    name,
    label,
    type: 'query',
    datasource: DATASOURCE,
    query: { query: `label_values(${query}, ${name})`, refId: `${name}-values` },
    refresh: 2,
    includeAll: true,
    multi: true,
    current: {},
    hide: 0,
  };
}

function panel(id: number, p: PanelSpec, gridPos: { x: number; y: number; w: number; h: number }) {
  return {
    id,
    type: p.kind,
    title: p.title,
    description: p.description,
    datasource: DATASOURCE,
    gridPos,
    targets: p.targets.map((t, i) => ({
      datasource: DATASOURCE,
      expr: t.expr,
      legendFormat: t.legend ?? '__auto',
      refId: String.fromCharCode(65 + i),
    })),
    fieldConfig: {
      defaults: {
        unit: p.unit,
        ...(p.redAbove !== undefined
          ? {
              thresholds: {
                mode: 'absolute',
                steps: [
                  { color: 'green', value: null },
                  { color: 'red', value: p.redAbove },
                ],
              },
              color: { mode: 'thresholds' },
            }
          : {}),
      },
      overrides: [],
    },
    options:
      p.kind === 'stat'
        ? { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, colorMode: 'background', graphMode: 'none' }
        : { legend: { displayMode: 'list', placement: 'bottom' }, tooltip: { mode: 'multi', sort: 'desc' } },
  };
}
