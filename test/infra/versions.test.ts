import cockpitInfra from '../../infra';
import { CHARTS, IMAGE_PAIRING, minorOf } from '../../infra/versions';
import { STACKS, T, type Json, ofType, plain, runProgram, stackConfigWithSecrets } from './harness';

/**
 * A chart release runs the app version it was written for: Velero's chart 12.0 calls `velero install --apply`,
 * which Velero 1.17 does not have, and with `atomic: true` the release rolls back and no backup is ever made.
 * This walks every image each stack's Helm values set and holds it to the minor version infra/versions.ts pairs
 * with that chart's appVersion.
 */

type Release = { name: string; chart: string; version: string; values: Json };
type FoundImage = { path: string; repository: string; tag: string };

/** Images in chart values: `{repository, tag}` objects and `image: "repo:tag"` strings, wherever they sit. */
function imagesIn(values: Json, path = 'values'): FoundImage[] {
  if (Array.isArray(values)) return values.flatMap((v, i) => imagesIn(v, `${path}[${i}]`));
  if (typeof values !== 'object' || values === null) return [];
  const found: FoundImage[] = [];
  if (typeof values.repository === 'string' && typeof values.tag === 'string') {
    found.push({ path, repository: values.repository, tag: values.tag });
  }
  for (const [key, value] of Object.entries(values)) {
    if (key === 'image' && typeof value === 'string') {
      const at = value.lastIndexOf(':');
      found.push({ path: `${path}.image`, repository: at > 0 ? value.slice(0, at) : value, tag: at > 0 ? value.slice(at + 1) : '' });
    } else {
      found.push(...imagesIn(value, `${path}.${key}`));
    }
  }
  return found;
}

/** `velero/velero` of `docker.io/velero/velero`: a first segment with a dot or a port is a registry. */
function withoutRegistry(repository: string): string {
  const [first, ...rest] = repository.split('/');
  return rest.length > 0 && /[.:]/.test(first!) ? rest.join('/') : repository;
}

/** What is wrong with a release's pins, one line each. */
function pairingProblems(release: Release): string[] {
  const pinned = Object.values(CHARTS).find((c) => c.chart === release.chart);
  if (!pinned) return [`release ${release.name}: chart ${release.chart} is not pinned in infra/versions.ts`];
  if (pinned.version !== release.version) return [`release ${release.name}: chart version ${release.version}, pinned ${pinned.version}`];
  const appMinor = minorOf(pinned.appVersion);
  return imagesIn(release.values).flatMap((image): string[] => {
    const name = `${release.name} ${image.path}: ${image.repository}:${image.tag}`;
    const pairing = IMAGE_PAIRING[withoutRegistry(image.repository)];
    if (!pairing) return [`${name}: not in IMAGE_PAIRING, so nothing says which version chart ${release.chart} needs`];
    if (CHARTS[pairing.chart].chart !== release.chart) return [`${name}: paired with chart ${CHARTS[pairing.chart].chart}, set in ${release.chart}`];
    const wanted = appMinor === undefined ? undefined : pairing.minorFor(appMinor);
    if (wanted === undefined) return [`${name}: no known minor version for ${release.chart} ${release.version} (app ${pinned.appVersion})`];
    const minor = minorOf(image.tag);
    return minor === wanted ? [] : [`${name}: minor ${minor ?? '(not a version)'}, but ${release.chart} ${release.version} is built for app ${pinned.appVersion} and needs ${wanted}`];
  });
}

describe('chart and image versions stay paired', () => {
  const releases: Record<string, Release[]> = {};

  beforeAll(async () => {
    // Sequential on purpose: Pulumi's mock runtime is process-global.
    for (const stack of STACKS) {
      const { config, secretKeys } = stackConfigWithSecrets(stack);
      const run = await runProgram(cockpitInfra, stack, config, secretKeys);
      releases[stack] = ofType(run, T.release).map((r) => {
        const inputs = plain(r.inputs);
        return { name: inputs.name, chart: inputs.chart, version: inputs.version, values: inputs.values };
      });
    }
  });

  test.each(STACKS)('%s: every image a chart’s values set is on the minor version that chart release is built for', (stack) => {
    expect(releases[stack]!.map((r) => r.chart).sort()).toEqual(Object.values(CHARTS).map((c) => c.chart).sort());
    expect(releases[stack]!.flatMap(pairingProblems)).toEqual([]);
    // The walk finds what it must: Velero's server and its AWS plugin.
    const velero = releases[stack]!.find((r) => r.chart === 'velero')!;
    expect(imagesIn(velero.values).map((i) => withoutRegistry(i.repository)).sort()).toEqual(['velero/velero', 'velero/velero-plugin-for-aws']);
  });

  test('a server or plugin on another minor than the chart’s app version is reported, and so is an unknown image', () => {
    const release = (values: Json): Release => ({ name: 'velero', chart: 'velero', version: CHARTS.velero.version, values });
    const appMinor = minorOf(CHARTS.velero.appVersion)!;
    const older = `v1.${Number(appMinor.split('.')[1]) - 1}.0`;
    expect(pairingProblems(release({ image: { repository: 'docker.io/velero/velero', tag: older } }))).toEqual([
      `velero values.image: docker.io/velero/velero:${older}: minor ${minorOf(older)}, but velero ${CHARTS.velero.version} is built for app ${CHARTS.velero.appVersion} and needs ${appMinor}`,
    ]);
    expect(pairingProblems(release({ initContainers: [{ image: 'velero/velero-plugin-for-aws:v1.9.0' }] }))).toHaveLength(1);
    expect(pairingProblems(release({ initContainers: [{ image: 'velero/velero-plugin-for-gcp:v1.14.0' }] }))[0]).toContain('not in IMAGE_PAIRING');
    expect(pairingProblems({ ...release({}), version: '11.4.0' })).toEqual([`release velero: chart version 11.4.0, pinned ${CHARTS.velero.version}`]);
  });

  test('minorOf reads tags with or without a v and a pre-release', () => {
    expect(['v1.18.1', '1.18.0', 'v1.18.0-rc.1', 'v1.18', 'v0.86.2'].map(minorOf)).toEqual(['1.18', '1.18', '1.18', '1.18', '0.86']);
    expect(minorOf('latest')).toBeUndefined();
  });
});
