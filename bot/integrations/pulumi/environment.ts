/**
 * The environment of every process the Pulumi adapter starts (the Pulumi CLI and the program it runs, git, the
 * package manager): what each tool needs and nothing else. Cockpit holds Slack, GitHub and database secrets in
 * its own environment; a child inheriting them would hand them to whatever code the infra repo contains,
 * including an unreviewed pull request's.
 */

export type ChildProcessKind = 'pulumi' | 'git' | 'install';

/** Cockpit's own secrets and settings: never passed on, even when a prefix or the team's extra list names them. */
const NEVER = [/^SLACK_/, /^GITHUB_/, /^DATABASE_URL$/, /^COCKPIT_/, /^DISCOURSE_/, /^ALERTMANAGER_/, /_WEBHOOK_SECRET$/];

/** What any tool needs to run at all: where binaries and home are, temp files, locale, the network path out. */
const COMMON = [
  /^(PATH|HOME|USER|LOGNAME|TZ|TMPDIR|TMP|TEMP)$/,
  /^(LANG|LANGUAGE)$/,
  /^LC_/,
  /^XDG_(CONFIG|CACHE|DATA|RUNTIME)_(HOME|DIR)$/,
  /^(HTTP|HTTPS|ALL|NO)_PROXY$/i,
  // CA bundles of the usual TLS stacks: OpenSSL (git, curl), Node, Python (providers written in it), Go.
  /^(SSL_CERT_FILE|SSL_CERT_DIR|NODE_EXTRA_CA_CERTS|REQUESTS_CA_BUNDLE|CURL_CA_BUNDLE)$/,
];

const PER_KIND: Record<ChildProcessKind, RegExp[]> = {
  // The CLI (backend URL, access token, home, config passphrase), then the cloud providers' own credentials.
  pulumi: [
    /^PULUMI_/,
    /^DIGITALOCEAN_/,
    /^SPACES_/,
    /^AWS_/,
    /^KUBECONFIG$/,
    /^GOOGLE_/,
    /^CLOUDSDK_/,
    /^ARM_/,
    /^AZURE_/,
  ],
  // git's own settings (ssh command, config overrides, CA file) and an ssh agent for ssh remotes.
  git: [/^GIT_/, /^SSH_AUTH_SOCK$/],
  // The package manager's settings (registry, cache); no cloud credentials: installing needs none.
  install: [/^npm_config_/i, /^(YARN|PNPM|BUN)_/, /^COREPACK_/],
};

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** True for the names no child process may receive. */
export function isCockpitOwn(name: string): boolean {
  return NEVER.some((re) => re.test(name));
}

/** What is wrong with the team's extra names (`COCKPIT_ENGINE_ENV_ALLOW`), each problem once; empty when nothing. */
export function extraNameProblems(names: readonly string[]): string[] {
  const bad = names.filter((n) => !ENV_NAME.test(n));
  const own = names.filter((n) => ENV_NAME.test(n) && isCockpitOwn(n));
  return [
    ...(bad.length ? [`not variable names: ${bad.map((n) => JSON.stringify(n)).join(', ')}`] : []),
    ...(own.length ? [`Cockpit's own settings, never passed to Pulumi, git or npm: ${own.join(', ')}`] : []),
  ];
}

/** The team's extra names, refused with every problem at once so start-up says what to fix. */
export function validateExtraNames(names: readonly string[]): string[] {
  const problems = extraNameProblems(names);
  if (problems.length) throw new Error(`COCKPIT_ENGINE_ENV_ALLOW: ${problems.join('; ')}`);
  return [...new Set(names)];
}

/** The variables of `source` a child of this kind gets: the kind's allowlist plus the team's extra names. */
export function childEnvironment(source: NodeJS.ProcessEnv, kind: ChildProcessKind, extra: readonly string[] = []): Record<string, string> {
  const allowed = [...COMMON, ...PER_KIND[kind]];
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(source)) {
    if (value === undefined || isCockpitOwn(name)) continue;
    if (extra.includes(name) || allowed.some((re) => re.test(name))) out[name] = value;
  }
  return out;
}

/**
 * `env` as the whole environment of a child started by a library that merges it over `process.env` (execa's
 * default, which the Automation API uses): every other variable of this process is set to `undefined`, which
 * Node's `child_process` leaves out of the child's environment.
 */
export function replacingProcessEnv(env: Record<string, string>): Record<string, string | undefined> {
  const masked: Record<string, string | undefined> = {};
  for (const name of Object.keys(process.env)) masked[name] = undefined;
  return { ...masked, ...env };
}
