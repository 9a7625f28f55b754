import { isAbsolute, normalize, resolve, sep } from 'node:path';
import type { Clock, Logger } from '../../../handlers/ports';
import { localAutomation, type Automation } from './automation';
import { execGit, GitCheckout, LocalDirectory, type GitRunner } from './checkout';
import { execInstaller, type PackageInstaller } from './dependencies';
import { PulumiEngine } from './engine';
import { validateExtraNames } from './environment';

/**
 * The Pulumi adapter: `InfraEngine` over the Automation API and the Pulumi CLI, running the infra repo's program
 * checked out per stack. Build it with `fromConfig`; tests swap the CLI for a scripted `Automation`. Importing it
 * is cheap: the Automation API loads when a stack is first touched.
 */

export type PulumiConfig = {
  /** `PULUMI_BACKEND_URL`: `https://api.pulumi.com`, `s3://…`, `file://…`; unset uses the CLI's login. */
  backendUrl?: string;
  /** `--secrets-provider` for stacks (e.g. `awskms://…`); the passphrase provider needs `passphrase`. */
  secretsProvider?: string;
  /** `PULUMI_CONFIG_PASSPHRASE` for stacks encrypted with the passphrase provider. */
  passphrase?: string;
  /** Where the program comes from: a git remote cloned per stack, or a directory used as is (development). */
  infraRepo: { url: string } | { localDir: string };
  /** Holds one checkout per stack (`<workDir>/<stack>`). */
  workDir: string;
  /** The program's directory inside the repo, e.g. `infra`. */
  programDir: string;
  /**
   * `COCKPIT_ENGINE_ENV_ALLOW`: variables to pass to Pulumi, git and the package manager beyond the built-in
   * allowlist (another provider's credentials, a private registry's token). Cockpit's own are refused.
   */
  extraEnvNames?: string[];
};

export type PulumiDeps = {
  log?: Logger;
  /** Runs git; default `execFile('git', …)`. */
  git?: GitRunner;
  /** The Automation API seam; default: the Pulumi CLI found through `env`. */
  automation?: Automation;
  /** Installs a preview workspace's packages from its lockfile; default: the package manager on PATH. */
  installer?: PackageInstaller;
  clock?: Clock;
  /**
   * Where the CLI, git and the package manager are found (PATH, HOME, PULUMI_HOME) and what of it they may see
   * (see environment.ts); default process.env.
   */
  env?: NodeJS.ProcessEnv;
};

const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};

function relativeProgramDir(programDir: string): string {
  const normalized = normalize(programDir === '' ? '.' : programDir);
  if (isAbsolute(normalized) || normalized === '..' || normalized.startsWith(`..${sep}`)) {
    throw new Error(`programDir must be a directory inside the infra repo, got "${programDir}"`);
  }
  return normalized;
}

export function fromConfig(config: PulumiConfig, deps: PulumiDeps = {}): PulumiEngine {
  const env = deps.env ?? process.env;
  const log = (deps.log ?? silentLogger).child({ integration: 'pulumi' });
  const programDir = relativeProgramDir(config.programDir);
  const extraEnvNames = validateExtraNames(config.extraEnvNames ?? []);
  const source =
    'localDir' in config.infraRepo
      ? new LocalDirectory(resolve(config.infraRepo.localDir))
      : new GitCheckout({
          url: config.infraRepo.url,
          workDir: resolve(config.workDir),
          programDir,
          git: deps.git ?? execGit({ env, extraEnvNames }),
          log,
        });

  const envVars: Record<string, string> = {
    // The CLI otherwise asks pulumi.com for a newer version on every run.
    PULUMI_SKIP_UPDATE_CHECK: 'true',
    ...(config.backendUrl ? { PULUMI_BACKEND_URL: config.backendUrl } : {}),
    ...(config.passphrase !== undefined ? { PULUMI_CONFIG_PASSPHRASE: config.passphrase } : {}),
  };

  return new PulumiEngine({
    automation: deps.automation ?? localAutomation({ env, extraEnvNames }),
    installer: deps.installer ?? execInstaller({ env, extraEnvNames }),
    source,
    programDir,
    workspace: { envVars, ...(config.secretsProvider ? { secretsProvider: config.secretsProvider } : {}) },
    clock: deps.clock ?? { now: () => new Date() },
    log,
    secrets: config.passphrase ? [config.passphrase] : [],
  });
}

export { PulumiEngine } from './engine';
export { EngineEventFold } from './events';
export { PULUMI_INSTALL_HINT, PulumiCliUnavailableError, locatePulumiBinary, localAutomation } from './automation';
export type { Automation, AutomationRunOptions, AutomationStack, WorkspaceOptions } from './automation';
export { GitCheckout, GitCommandError, LocalDirectory, execGit } from './checkout';
export type { GitRunner, ProgramCheckout, ProgramSource, ProgramWorkspace } from './checkout';
export { execInstaller, lockedInstall } from './dependencies';
export type { LockedInstall, PackageInstaller } from './dependencies';
export { childEnvironment, isCockpitOwn } from './environment';
