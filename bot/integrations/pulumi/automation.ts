import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import type * as AutomationSdk from '@pulumi/pulumi/automation';
import type { EngineEvent, OpMap, OutputMap, PulumiCommand } from '@pulumi/pulumi/automation';
import { childEnvironment, replacingProcessEnv } from './environment';

/**
 * The seam between Cockpit and the Pulumi Automation API: the few calls the engine makes, shaped like the real
 * `LocalWorkspace` / `Stack` methods so the real ones sit behind it unchanged and a scripted fake can replay
 * real engine events in tests.
 */

export type EngineEventHandler = (event: EngineEvent) => void;

/** One run's options, as the real `Stack.preview/up/destroy` take them. */
export interface AutomationRunOptions {
  onEvent: EngineEventHandler;
  /** Aborting sends the CLI SIGINT: it stops starting new steps, lets the running ones finish, and exits. */
  signal?: AbortSignal;
}

/** The part of the Automation API's `Stack` the engine drives. */
export interface AutomationStack {
  preview(opts: AutomationRunOptions): Promise<{ changeSummary: OpMap }>;
  up(opts: AutomationRunOptions): Promise<{ outputs: OutputMap }>;
  destroy(opts: AutomationRunOptions): Promise<unknown>;
  /** `pulumi destroy --preview-only`: what a destroy would delete, without deleting it. */
  previewDestroy(opts: AutomationRunOptions): Promise<{ changeSummary: OpMap }>;
  /** `pulumi cancel`: tells the backend to stop (service) or unlock (self-managed) the stack's current update. */
  cancel(): Promise<void>;
  /** `pulumi stack output --json --show-secrets`: the outputs of the last update, secrets in plaintext. */
  outputs(): Promise<OutputMap>;
}

export interface WorkspaceOptions {
  /** Variables for every CLI call: backend URL, config passphrase. */
  envVars: Record<string, string>;
  secretsProvider?: string;
}

/** Where stacks come from: the Pulumi CLI behind `LocalWorkspace`, or a fake. */
export interface Automation {
  /** The CLI's version; rejects with `PulumiCliUnavailableError` when there is no usable CLI. */
  cliVersion(): Promise<string>;
  /** `LocalWorkspace.selectStack`: rejects with the Automation API's `StackNotFoundError` for an unknown stack. */
  selectStack(args: { stackName: string; workDir: string }, opts: WorkspaceOptions): Promise<AutomationStack>;
  /** `pulumi install`: the program's language dependencies (npm, pip, …) and plugins. */
  installDependencies(workDir: string, opts: WorkspaceOptions): Promise<void>;
}

export const PULUMI_INSTALL_HINT =
  'Install the Pulumi CLI on the host that runs Cockpit: `curl -fsSL https://get.pulumi.com | sh` ' +
  '(or `brew install pulumi/tap/pulumi`), see https://www.pulumi.com/docs/install/ — then make sure `pulumi` is on PATH ' +
  'or in $PULUMI_HOME/bin or ~/.pulumi/bin.';

export class PulumiCliUnavailableError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'PulumiCliUnavailableError';
  }
}

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Where the `pulumi` binary is: PATH first (what a shell would run), then the installer's homes, which a
 * service's PATH often lacks: $PULUMI_HOME/bin and ~/.pulumi/bin.
 */
export function locatePulumiBinary(env: NodeJS.ProcessEnv): string | undefined {
  const exe = process.platform === 'win32' ? 'pulumi.exe' : 'pulumi';
  // Relative PATH entries would make the answer depend on the working directory; a shell quirk, not a source.
  const dirs = (env.PATH ?? '').split(delimiter).filter((d) => d !== '' && isAbsolute(d));
  if (env.PULUMI_HOME) dirs.push(join(env.PULUMI_HOME, 'bin'));
  const home = env.HOME ?? env.USERPROFILE;
  if (home) dirs.push(join(home, '.pulumi', 'bin'));
  for (const dir of dirs) {
    const candidate = join(dir, exe);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

/** The first line of an error, without the CommandError dump of stdout/stderr around it. */
function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const stderr = /stderr: ([^\n]+)/.exec(text)?.[1]?.trim();
  const line = stderr || text.split('\n').find((l) => l.trim() !== '')?.trim() || 'unknown error';
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}

type Sdk = typeof AutomationSdk;

/**
 * How `LocalWorkspace` and `Stack` start the CLI, every time: `pulumiCommand.run(args, cwd, env, onOutput, onError,
 * signal)`. Internal to the SDK (3.248.0, pinned); the env-isolation tests drive it through a stand-in CLI.
 */
type CommandRun = (
  args: string[],
  cwd: string | undefined,
  additionalEnv: Record<string, string | undefined>,
  onOutput?: (data: string) => void,
  onError?: (data: string) => void,
  signal?: AbortSignal,
) => Promise<{ stdout: string }>;

/** The SDK's own version rules (internal to it, runtime exports of 3.248.0): what `PulumiCommand.get` applies. */
type VersionRules = {
  parseAndValidatePulumiVersion(min: unknown, current: string, optOut: boolean): PulumiCommand['version'];
  minimumVersion: unknown;
};

/** A CommonJS module's exports, whether `import()` went through Node's ESM loader (`default`) or a `require`. */
function cjsExports<T extends object>(mod: T | { default: T }): T {
  return 'default' in mod && mod.default && typeof mod.default === 'object' ? mod.default : (mod as T);
}

/**
 * Loaded on first use, not at import: the Automation API takes over a second to load, which every start of
 * the console and the CLI would pay even when no stack is touched.
 */
async function loadSdk(): Promise<{ sdk: Sdk; versionRules: VersionRules }> {
  const sdk = cjsExports(await import('@pulumi/pulumi/automation/index.js'));
  const minimum = cjsExports((await import('@pulumi/pulumi/automation/minimumVersion.js')) as object) as { minimumVersion: unknown };
  const internals = sdk as unknown as Pick<VersionRules, 'parseAndValidatePulumiVersion'>;
  return { sdk, versionRules: { parseAndValidatePulumiVersion: internals.parseAndValidatePulumiVersion, minimumVersion: minimum.minimumVersion } };
}

/**
 * A `PulumiCommand` whose every run gets exactly `env` (plus what the workspace adds: backend, passphrase), not
 * this process's environment: the SDK hands its env to execa, which merges it over `process.env`, so each of
 * this process's other variables is passed as `undefined` — left out by Node when it starts the child.
 */
type IsolatedCommand = PulumiCommand & { run: CommandRun; version: PulumiCommand['version'] };

function isolatedCommand(sdk: Sdk, binary: string, env: () => Record<string, string>): IsolatedCommand {
  const sdkRun = (sdk.PulumiCommand.prototype as unknown as { run: CommandRun }).run;
  // An instance of the SDK's class (its constructor is private) that runs `binary`, which the SDK's `run` reads.
  const command = Object.create(sdk.PulumiCommand.prototype) as IsolatedCommand;
  Object.defineProperty(command, 'command', { value: binary, enumerable: true });
  command.version = null;
  command.run = (args, cwd, additionalEnv, ...rest) => {
    const own = Object.fromEntries(Object.entries(additionalEnv).filter((e): e is [string, string] => e[1] !== undefined));
    return sdkRun.call(command, args, cwd, replacingProcessEnv({ ...env(), ...own }), ...rest);
  };
  return command;
}

async function resolvePulumiCommand(env: NodeJS.ProcessEnv, extraNames: readonly string[]): Promise<{ sdk: Sdk; command: PulumiCommand }> {
  const binary = locatePulumiBinary(env);
  if (!binary) {
    throw new PulumiCliUnavailableError('the Pulumi CLI is not installed (no `pulumi` on PATH, in $PULUMI_HOME/bin or in ~/.pulumi/bin)');
  }
  const { sdk, versionRules } = await loadSdk();
  const command = isolatedCommand(sdk, binary, () => childEnvironment(env, 'pulumi', extraNames));
  try {
    // What `PulumiCommand.get` does, but through the isolated command: its own `pulumi version` inherits everything.
    const { stdout } = await command.run(['version'], undefined, { PULUMI_SKIP_UPDATE_CHECK: 'true' });
    const optOut = Boolean(env.PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK);
    command.version = versionRules.parseAndValidatePulumiVersion(versionRules.minimumVersion, stdout.trim(), optOut);
  } catch (err) {
    // Too old for this SDK, or not runnable (wrong architecture, broken install).
    throw new PulumiCliUnavailableError(`the Pulumi CLI at ${binary} cannot be used: ${firstLine(err)}`);
  }
  return { sdk, command };
}

/**
 * The real seam: the Pulumi CLI found through `env`, driven by the Automation API. The CLI, and the program and
 * plugins it starts, see only the variables `childEnvironment(env, 'pulumi', extraNames)` lets through.
 */
export function localAutomation(options: { env: NodeJS.ProcessEnv; extraEnvNames?: readonly string[] }): Automation {
  let resolved: Promise<{ sdk: Sdk; command: PulumiCommand }> | undefined;
  const pulumi = (): Promise<{ sdk: Sdk; command: PulumiCommand }> => {
    // Cache only success, so installing the CLI while Cockpit runs is picked up on the next request.
    resolved ??= resolvePulumiCommand(options.env, options.extraEnvNames ?? []).catch((err: unknown) => {
      resolved = undefined;
      throw err;
    });
    return resolved;
  };

  return {
    async cliVersion() {
      const { command } = await pulumi();
      return command.version?.version ?? 'unknown';
    },

    async selectStack(args, opts) {
      const { sdk, command } = await pulumi();
      const stack = await sdk.LocalWorkspace.selectStack(args, {
        pulumiCommand: command,
        envVars: opts.envVars,
        secretsProvider: opts.secretsProvider,
      });
      // Nobody reads the CLI's own rendering (the events carry everything), so keep it plain and quiet.
      const display = { color: 'never', suppressProgress: true, suppressOutputs: true } as const;
      return {
        preview: (o) => stack.preview({ ...display, onEvent: o.onEvent, signal: o.signal }),
        up: (o) => stack.up({ ...display, onEvent: o.onEvent, signal: o.signal }),
        destroy: (o) => stack.destroy({ ...display, onEvent: o.onEvent, signal: o.signal }),
        previewDestroy: (o) => stack.previewDestroy({ ...display, onEvent: o.onEvent, signal: o.signal }),
        cancel: () => stack.cancel(),
        outputs: () => stack.outputs(),
      };
    },

    async installDependencies(workDir, opts) {
      const { sdk, command } = await pulumi();
      const workspace = await sdk.LocalWorkspace.create({ workDir, pulumiCommand: command, envVars: opts.envVars });
      await workspace.install();
    },
  };
}
