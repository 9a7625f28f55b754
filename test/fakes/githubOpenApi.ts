import { readFileSync } from 'node:fs';

/**
 * GitHub's own REST description (the `@octokit/openapi` package, the file Octokit's typings are generated from),
 * used by the fake GitHub to refuse any request the real API would not understand: an unknown route, a missing
 * required parameter or body field, a value of the wrong type, a property GitHub does not define.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

interface Schema {
  $ref?: string;
  type?: string;
  nullable?: boolean;
  enum?: Json[];
  required?: string[];
  properties?: Record<string, Schema>;
  items?: Schema;
  oneOf?: Schema[];
  anyOf?: Schema[];
  allOf?: Schema[];
}

interface Parameter {
  $ref?: string;
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: Schema;
  'x-multi-segment'?: boolean;
}

interface RawOperation {
  operationId: string;
  description?: string;
  deprecated?: boolean;
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content: Record<string, { schema: Schema }> };
  responses: Record<string, { $ref?: string; content?: Record<string, { schema?: Schema; examples?: Record<string, { $ref?: string; value?: Json }> }> }>;
  externalDocs?: { url: string };
}

interface RawSpec {
  paths: Record<string, Record<string, RawOperation>>;
  components: Record<string, Record<string, unknown>>;
}

export interface SpecOperation {
  operationId: string;
  method: string;
  /** The spec's path template, e.g. `/repos/{owner}/{repo}/pulls/{pull_number}`. */
  template: string;
  /** GitHub's documentation page for the operation; real error bodies carry it. */
  documentationUrl: string;
  parameters: Parameter[];
  body?: { required: boolean; contentTypes: string[]; schema?: Schema };
  raw: RawOperation;
}

interface CompiledRoute {
  operation: SpecOperation;
  regex: RegExp;
  names: string[];
  /** Literal characters in the template: the more, the more specific, so `/pulls/comments` beats `/pulls/{n}`. */
  specificity: number;
}

export interface RouteMatch {
  operation: SpecOperation;
  pathParams: Record<string, string>;
}

const METHODS = ['get', 'put', 'post', 'patch', 'delete', 'head', 'options'];

function specFile(flavour: string): string {
  // The package exports only its index; resolving it finds the folder the generated descriptions sit in.
  return require.resolve('@octokit/openapi').replace(/index\.js$/, `generated/${flavour}.json`);
}

const loaded = new Map<string, GitHubOpenApi>();

export class GitHubOpenApi {
  private readonly routes: CompiledRoute[] = [];

  private constructor(private readonly spec: RawSpec) {
    for (const [template, item] of Object.entries(spec.paths)) {
      for (const method of METHODS) {
        const raw = item[method];
        if (!raw) continue;
        const parameters = (raw.parameters ?? []).map((p) => this.resolve<Parameter>(p));
        const json = raw.requestBody?.content;
        const operation: SpecOperation = {
          operationId: raw.operationId,
          method: method.toUpperCase(),
          template,
          documentationUrl: raw.externalDocs?.url ?? 'https://docs.github.com/rest',
          parameters,
          body: json
            ? {
                required: raw.requestBody?.required ?? false,
                contentTypes: Object.keys(json),
                schema: json['application/json']?.schema ? this.resolve<Schema>(json['application/json'].schema) : undefined,
              }
            : undefined,
          raw,
        };
        this.routes.push(compile(operation));
      }
    }
    this.routes.sort((a, b) => b.specificity - a.specificity);
  }

  /** The description of api.github.com (or a GHES version: `ghes-3.19`), parsed once per process. */
  static load(flavour = 'api.github.com'): GitHubOpenApi {
    let spec = loaded.get(flavour);
    if (!spec) {
      spec = new GitHubOpenApi(JSON.parse(readFileSync(specFile(flavour), 'utf8')) as RawSpec);
      loaded.set(flavour, spec);
    }
    return spec;
  }

  /**
   * The operation a method and (still percent-encoded) path name, with its decoded path parameters. Where the
   * description lists one route twice (`/compare/{base}...{head}` beside `/compare/{basehead}`), the current
   * operation wins over the deprecated one.
   */
  match(method: string, pathname: string): RouteMatch | undefined {
    const matches = this.matchAll(method, pathname);
    return matches.find((m) => !isDeprecated(m.operation.raw)) ?? matches[0];
  }

  private matchAll(method: string, pathname: string): RouteMatch[] {
    const wanted = method.toUpperCase();
    const found: RouteMatch[] = [];
    for (const route of this.routes) {
      if (route.operation.method !== wanted) continue;
      const m = route.regex.exec(pathname);
      if (!m) continue;
      const pathParams: Record<string, string> = {};
      let decodable = true;
      route.names.forEach((name, i) => {
        try {
          pathParams[name] = decodeURIComponent(m[i + 1] ?? '');
        } catch {
          decodable = false;
        }
      });
      if (decodable) found.push({ operation: route.operation, pathParams });
    }
    return found;
  }

  /** Everything in the request that the real API would reject or that GitHub does not define; empty when clean. */
  checkRequest(
    operation: SpecOperation,
    request: { pathParams: Record<string, string>; query: URLSearchParams; contentType?: string; body: unknown },
  ): string[] {
    const problems: string[] = [];
    const known = new Set<string>();
    for (const p of operation.parameters) {
      if (p.in === 'path') {
        const value = request.pathParams[p.name];
        if (value === undefined || value === '') problems.push(`path parameter "${p.name}" is empty`);
        else problems.push(...checkScalar(`path parameter "${p.name}"`, value, p.schema && this.resolve<Schema>(p.schema)));
      } else if (p.in === 'query') {
        known.add(p.name);
        const value = request.query.get(p.name);
        if (value === null) {
          if (p.required) problems.push(`required query parameter "${p.name}" is missing`);
        } else {
          problems.push(...checkScalar(`query parameter "${p.name}"`, value, p.schema && this.resolve<Schema>(p.schema)));
        }
      }
    }
    for (const name of request.query.keys()) {
      if (!known.has(name)) problems.push(`query parameter "${name}" is not defined for ${operation.operationId}`);
    }

    if (!operation.body) {
      if (request.body !== undefined) problems.push(`${operation.operationId} takes no request body`);
      return problems;
    }
    if (request.body === undefined) {
      const schema = operation.body.schema;
      if (operation.body.required || (schema?.required?.length ?? 0) > 0) problems.push(`${operation.operationId} needs a JSON body`);
      return problems;
    }
    if (request.contentType !== undefined && !/^application\/json\b/i.test(request.contentType)) {
      problems.push(`body is sent as ${request.contentType}; ${operation.operationId} takes ${operation.body.contentTypes.join(', ')}`);
    }
    if (operation.body.schema) problems.push(...this.checkObject('body', request.body, operation.body.schema));
    return problems;
  }

  /** The example GitHub documents for the operation's success answer: a complete, realistic body to overlay. */
  example(operation: SpecOperation): JsonObject {
    for (const status of ['200', '201']) {
      const response = this.responseOf(operation, status);
      const examples = response?.content?.['application/json']?.examples;
      const first = examples && Object.values(examples)[0];
      if (!first) continue;
      const value = first.$ref ? this.resolve<{ value: Json }>(first).value : first.value;
      const item = Array.isArray(value) ? value[0] : value;
      if (item && typeof item === 'object' && !Array.isArray(item)) return structuredClone(item);
    }
    throw new Error(`the GitHub description documents no JSON example for ${operation.operationId}`);
  }

  /** Required properties the spec lists for a success answer that the body lacks: the fake's own honesty check. */
  checkResponse(operation: SpecOperation, status: number, body: unknown): string[] {
    const schemaRef = this.responseOf(operation, String(status))?.content?.['application/json']?.schema;
    if (!schemaRef || body === undefined) return [];
    const schema = this.resolve<Schema>(schemaRef);
    if (schema.type === 'array' && Array.isArray(body) && schema.items) {
      const items = this.resolve<Schema>(schema.items);
      return body.flatMap((item, i) => missingRequired(`response[${i}]`, item, items));
    }
    return missingRequired('response', body, schema);
  }

  private responseOf(operation: SpecOperation, status: string) {
    const response = operation.raw.responses[status];
    return response?.$ref ? this.resolve<NonNullable<typeof response>>(response) : response;
  }

  private checkObject(where: string, value: unknown, schemaOrRef: Schema): string[] {
    const schema = this.resolve<Schema>(schemaOrRef);
    const alternatives = schema.oneOf ?? schema.anyOf;
    if (alternatives) {
      const outcomes = alternatives.map((alt) => this.checkObject(where, value, alt));
      return outcomes.some((o) => o.length === 0) ? [] : [`${where} matches none of the documented shapes (${outcomes.map((o) => o[0]).join('; ')})`];
    }
    if (!isObject(value)) return [`${where} must be a JSON object`];
    const problems: string[] = [];
    for (const name of schema.required ?? []) {
      if (!(name in value)) problems.push(`"${name}" wasn't supplied`);
    }
    const properties = schema.properties ?? {};
    for (const [name, v] of Object.entries(value)) {
      const propSchema = properties[name];
      if (!propSchema) {
        problems.push(`${where} property "${name}" is not defined for this operation`);
        continue;
      }
      problems.push(...checkValue(`${where}.${name}`, v, this.resolve<Schema>(propSchema)));
    }
    return problems;
  }

  private resolve<T>(node: unknown): T {
    let current = node as { $ref?: string };
    for (let depth = 0; current?.$ref; depth++) {
      if (depth > 10) throw new Error(`$ref loop at ${current.$ref}`);
      const parts = current.$ref.replace(/^#\//, '').split('/');
      let target: unknown = this.spec;
      for (const part of parts) target = (target as Record<string, unknown>)[part.replace(/~1/g, '/').replace(/~0/g, '~')];
      if (target === undefined) throw new Error(`unresolvable $ref ${current.$ref}`);
      current = target as { $ref?: string };
    }
    return current as T;
  }
}

function compile(operation: SpecOperation): CompiledRoute {
  const names: string[] = [];
  let specificity = 0;
  const pattern = operation.template
    .split(/(\{[^}]+\})/)
    .map((part) => {
      const m = /^\{(.+)\}$/.exec(part);
      if (!m?.[1]) {
        specificity += part.length;
        return part.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
      }
      const name = m[1];
      names.push(name);
      const multi = operation.parameters.some((p) => p.in === 'path' && p.name === name && p['x-multi-segment']);
      return multi ? '(.+)' : '([^/]+)';
    })
    .join('');
  return { operation, regex: new RegExp(`^${pattern}/?$`), names, specificity };
}

function isDeprecated(operation: RawOperation): boolean {
  return operation.deprecated === true || /^\*\*Deprecated\*\*/.test(operation.description ?? '');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Path and query values arrive as text: check they read as the documented type and enum. */
function checkScalar(where: string, text: string, schema: Schema | undefined): string[] {
  if (!schema) return [];
  if (schema.type === 'integer' && !/^-?\d+$/.test(text)) return [`${where} must be an integer, got "${text.slice(0, 40)}"`];
  if (schema.type === 'boolean' && text !== 'true' && text !== 'false') return [`${where} must be true or false`];
  if (schema.enum && !schema.enum.includes(text)) return [`${where} must be one of ${schema.enum.join(', ')}`];
  return [];
}

function checkValue(where: string, value: unknown, schema: Schema): string[] {
  if (value === null) return schema.nullable ? [] : [`${where} may not be null`];
  const ok = (() => {
    switch (schema.type) {
      case 'string':
        return typeof value === 'string';
      case 'integer':
        return Number.isInteger(value);
      case 'number':
        return typeof value === 'number';
      case 'boolean':
        return typeof value === 'boolean';
      case 'array':
        return Array.isArray(value);
      case 'object':
        return isObject(value);
      default:
        return true; // oneOf/anyOf-typed properties: shape varies, not checked further
    }
  })();
  if (!ok) return [`${where} must be of type ${schema.type}`];
  if (schema.enum && !schema.enum.includes(value as Json)) return [`${where} must be one of ${schema.enum.join(', ')}`];
  return [];
}

function missingRequired(where: string, body: unknown, schema: Schema): string[] {
  if (!isObject(body)) return schema.type === 'object' ? [`${where} is not an object`] : [];
  return (schema.required ?? []).filter((name) => !(name in body)).map((name) => `${where} lacks required "${name}"`);
}
