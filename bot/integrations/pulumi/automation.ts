import { accessSync, constants, statSync } from 'node:fs';
import { basename, delimiter, dirname, isAbsolute, join } from 'node:path';
import { LocalWorkspace, PulumiCommand, type EngineEvent, type OpMap, type OutputMap } from '@pulumi/pulumi/automation';

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
  /** `pulumi cancel`: tells the backend to stop (service) or unlock (self-managed) the stack's current update. */
  cancel(): Promise<void>;
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

async function resolvePulumiCommand(env: NodeJS.ProcessEnv): Promise<PulumiCommand> {
  const binary = locatePulumiBinary(env);
  if (!binary) {
    throw new PulumiCliUnavailableError('the Pulumi CLI is not installed (no `pulumi` on PATH, in $PULUMI_HOME/bin or in ~/.pulumi/bin)');
  }
  // PulumiCommand takes an install root and runs `<root>/bin/pulumi`; a binary outside a `bin` directory (an
  // unpacked tarball on PATH) can only be reached the way the SDK does by default, through PATH.
  const root = basename(dirname(binary)) === 'bin' ? dirname(dirname(binary)) : undefined;
  try {
    return await PulumiCommand.get(root ? { root } : undefined);
  } catch (err) {
    // Too old for this SDK, or not runnable (wrong architecture, broken install).
    throw new PulumiCliUnavailableError(`the Pulumi CLI at ${binary} cannot be used: ${firstLine(err)}`);
  }
}

/** The real seam: the Pulumi CLI found through `env`, driven by the Automation API. */
export function localAutomation(options: { env: NodeJS.ProcessEnv }): Automation {
  let command: Promise<PulumiCommand> | undefined;
  const pulumiCommand = (): Promise<PulumiCommand> => {
    // Cache only success, so installing the CLI while Cockpit runs is picked up on the next request.
    command ??= resolvePulumiCommand(options.env).catch((err: unknown) => {
      command = undefined;
      throw err;
    });
    return command;
  };

  return {
    async cliVersion() {
      const cmd = await pulumiCommand();
      return cmd.version?.version ?? 'unknown';
    },

    async selectStack(args, opts) {
      const stack = await LocalWorkspace.selectStack(args, {
        pulumiCommand: await pulumiCommand(),
        envVars: opts.envVars,
        secretsProvider: opts.secretsProvider,
      });
      // Nobody reads the CLI's own rendering (the events carry everything), so keep it plain and quiet.
      const display = { color: 'never', suppressProgress: true, suppressOutputs: true } as const;
      return {
        preview: (o) => stack.preview({ ...display, onEvent: o.onEvent, signal: o.signal }),
        up: (o) => stack.up({ ...display, onEvent: o.onEvent, signal: o.signal }),
        destroy: (o) => stack.destroy({ ...display, onEvent: o.onEvent, signal: o.signal }),
        cancel: () => stack.cancel(),
      };
    },

    async installDependencies(workDir, opts) {
      const workspace = await LocalWorkspace.create({ workDir, pulumiCommand: await pulumiCommand(), envVars: opts.envVars });
      await workspace.install();
    },
  };
}
