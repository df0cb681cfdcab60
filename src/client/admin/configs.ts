import { DescribeConfigs } from '../../protocol/apis/describe-configs.js'
import { IncrementalAlterConfigs } from '../../protocol/apis/incremental-alter-configs.js'
import { ErrorCode, errorByCode } from '../../protocol/error-codes.js'
import { KafkaError, type KafkaErrorContext } from '../../protocol/kafka-error.js'
import { ConfigError } from '../errors.js'
import type { Call } from './call.js'
import { fanOut, groupRoutes } from './fan-out.js'
import { firstDuplicate } from './routing.js'
import type { AdminRuntime, Target } from './runtime.js'
import type { AdminCallOptions, Outcome } from './types.js'

/** What a configuration belongs to. */
export type ConfigResourceType = 'topic' | 'broker' | 'broker-logger' | 'client-metrics' | 'group'

/** Kafka's ConfigResource.Type codes. */
const RESOURCE_TYPE: Record<ConfigResourceType, number> = {
  topic: 2,
  broker: 4,
  'broker-logger': 8,
  'client-metrics': 16,
  group: 32,
}

/**
 * A configurable resource: a topic by name, a broker by node id (`'1'`; `''` for the cluster-wide broker defaults),
 * a broker's log4j loggers by node id, a client-metrics subscription, or a group (Kafka 4.x group configs).
 */
export interface ConfigResource {
  type: ConfigResourceType
  name: string
}

/** A resource to describe, optionally only some of its keys. */
export interface DescribeConfigsResource extends ConfigResource {
  /** Only these keys; default every key. */
  keys?: readonly string[]
}

/** Options of `describeConfigs`. */
export interface DescribeConfigsOptions extends AdminCallOptions {
  /** Include each entry's synonyms: the values it falls back to, highest precedence first. Default false. */
  synonyms?: boolean
  /** Include each entry's documentation. Default false. */
  documentation?: boolean
}

/** Where a configuration value comes from (Kafka's DescribeConfigs ConfigSource, in kebab case). */
export type ConfigSource =
  | 'unknown'
  /** Set on the topic (a dynamic topic config). */
  | 'topic'
  /** Set dynamically for this broker. */
  | 'dynamic-broker'
  /** Set dynamically as the default of every broker. */
  | 'dynamic-default-broker'
  /** From the broker's server.properties. */
  | 'static-broker'
  /** Kafka's built-in default. */
  | 'default'
  | 'dynamic-broker-logger'
  | 'client-metrics'
  | 'group'

const SOURCES: readonly ConfigSource[] = [
  'unknown',
  'topic',
  'dynamic-broker',
  'dynamic-default-broker',
  'static-broker',
  'default',
  'dynamic-broker-logger',
  'client-metrics',
  'group',
]

/** A configuration's value type (Kafka's ConfigDef.Type), reported by DescribeConfigs v3+. */
export type ConfigValueType =
  | 'unknown'
  | 'boolean'
  | 'string'
  | 'int'
  | 'short'
  | 'long'
  | 'double'
  | 'list'
  | 'class'
  | 'password'

const VALUE_TYPES: readonly ConfigValueType[] = [
  'unknown',
  'boolean',
  'string',
  'int',
  'short',
  'long',
  'double',
  'list',
  'class',
  'password',
]

/** A value a configuration entry falls back to. */
export interface ConfigSynonym {
  name: string
  value: string | null
  source: ConfigSource
}

/** One configuration entry of a resource. */
export interface ConfigEntry {
  name: string
  /** null for a sensitive value (passwords) and for an unset one. */
  value: string | null
  source: ConfigSource
  /** The value is Kafka's built-in default (source `default`). */
  isDefault: boolean
  readOnly: boolean
  sensitive: boolean
  /** The value's type, when the broker says (DescribeConfigs v3+). */
  type?: ConfigValueType
  /** Present when asked for (`documentation: true`); null when Kafka has none. */
  documentation?: string | null
  /** Present when asked for (`synonyms: true`), highest precedence first. */
  synonyms?: ConfigSynonym[]
}

/** A described resource: its entries, or the error Kafka gave for it. */
export type ConfigDescription = Outcome<ConfigResource, { configs: ConfigEntry[] }>

/** One change in an incremental alter (KIP-339). */
export interface AlterConfigOp {
  key: string
  /**
   * `set` a value, `delete` the override (back to the inherited value), `append` to or `subtract` from a list
   * value (e.g. `cleanup.policy`).
   */
  op: 'set' | 'delete' | 'append' | 'subtract'
  /** Required except for `delete`. */
  value?: string
}

/** A resource and the changes to make to its configuration, applied together. */
export interface AlterConfigsResource extends ConfigResource {
  ops: readonly AlterConfigOp[]
}

/** Options of `incrementalAlterConfigs`. */
export interface AlterConfigsOptions extends AdminCallOptions {
  /** Validate the changes without applying them. Default false. */
  validateOnly?: boolean
}

/** An altered resource, or the error Kafka gave for it (all its changes were refused together). */
export type AlteredConfigs = Outcome<ConfigResource>

const OPS: Record<AlterConfigOp['op'], number> = { set: 0, delete: 1, append: 2, subtract: 3 }

/** Maps a wire ConfigSource code (unknown codes become `unknown`). */
export function configSource(code: number): ConfigSource {
  return SOURCES[code] ?? 'unknown'
}

/** Maps a wire ConfigType code (unknown codes become `unknown`). */
export function configValueType(code: number): ConfigValueType {
  return VALUE_TYPES[code] ?? 'unknown'
}

/** Describes configurations, one request per broker: broker resources go to that broker, others to any. */
export async function describeConfigs(
  rt: AdminRuntime,
  resources: readonly DescribeConfigsResource[],
  options: DescribeConfigsOptions = {},
): Promise<ConfigDescription[]> {
  checkResources('describeConfigs', resources)
  const call = rt.call('describeConfigs', options)
  try {
    return await fanOut(rt, call, resources, {
      route: async (items) => ({ routes: groupRoutes(items.map((r) => [r, brokerFor(rt, r) ?? rt.anyBroker()])) }),
      send: async (conn, items) => {
        const version = conn.versionFor(DescribeConfigs)
        const res = await call.request(
          conn,
          DescribeConfigs,
          {
            resources: items.map((r) => ({
              resourceType: RESOURCE_TYPE[r.type],
              resourceName: r.name,
              configurationKeys: r.keys ? [...r.keys] : null,
            })),
            includeSynonyms: options.synonyms ?? false,
            // v3+ only; older brokers simply send no documentation.
            ...(version >= 3 ? { includeDocumentation: options.documentation ?? false } : {}),
          },
          version,
        )
        const byKey = new Map(res.results.map((r) => [`${r.resourceType}:${r.resourceName}`, r]))
        const out = new Map<DescribeConfigsResource, ConfigDescription>()
        for (const item of items) {
          const r = byKey.get(`${RESOURCE_TYPE[item.type]}:${item.name}`)
          if (!r) continue
          const id = { type: item.type, name: item.name }
          if (r.errorCode !== ErrorCode.NONE) {
            out.set(item, {
              ...id,
              error: resourceError(r.errorCode, 'DescribeConfigs', item, conn.broker, r.errorMessage),
            })
            continue
          }
          const configs = r.configs.map(
            (c): ConfigEntry => ({
              name: c.name,
              value: c.value,
              source: configSource(c.configSource),
              isDefault: configSource(c.configSource) === 'default',
              readOnly: c.readOnly,
              sensitive: c.isSensitive,
              ...(version >= 3 ? { type: configValueType(c.configType) } : {}),
              ...(options.documentation ? { documentation: c.documentation } : {}),
              ...(options.synonyms
                ? {
                    synonyms: c.synonyms.map((s) => ({ name: s.name, value: s.value, source: configSource(s.source) })),
                  }
                : {}),
            }),
          )
          out.set(item, { ...id, configs })
        }
        return out
      },
      fail: (item, error) => ({ type: item.type, name: item.name, error }),
      retriable: (e) => e.retriable && e.code !== ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
    })
  } finally {
    call.finish()
  }
}

/**
 * Changes configurations incrementally (IncrementalAlterConfigs, KIP-339): only the keys named change. Broker and
 * broker-logger resources go to that broker; the rest to the controller (a broker, which forwards them in KRaft).
 */
export async function incrementalAlterConfigs(
  rt: AdminRuntime,
  resources: readonly AlterConfigsResource[],
  options: AlterConfigsOptions = {},
): Promise<AlteredConfigs[]> {
  checkResources('incrementalAlterConfigs', resources)
  for (const r of resources) {
    for (const o of r.ops) {
      if (!(o.op in OPS)) throw new ConfigError(`incrementalAlterConfigs: unknown op ${JSON.stringify(o.op)}`)
      if (o.op !== 'delete' && typeof o.value !== 'string')
        throw new ConfigError(`incrementalAlterConfigs: ${o.op} of ${o.key} on ${r.type} ${r.name} needs a value`)
    }
  }
  const call = rt.call('incrementalAlterConfigs', options)
  try {
    return await fanOut(rt, call, resources, {
      route: async (items, c: Call) => {
        const entries: Array<[AlterConfigsResource, Target]> = []
        for (const r of items) entries.push([r, brokerFor(rt, r) ?? (await rt.controller(c))])
        return { routes: groupRoutes(entries) }
      },
      send: async (conn, items) => {
        const res = await call.request(conn, IncrementalAlterConfigs, {
          resources: items.map((r) => ({
            resourceType: RESOURCE_TYPE[r.type],
            resourceName: r.name,
            configs: r.ops.map((o) => ({ name: o.key, configOperation: OPS[o.op], value: o.value ?? null })),
          })),
          validateOnly: options.validateOnly ?? false,
        })
        const byKey = new Map(res.responses.map((r) => [`${r.resourceType}:${r.resourceName}`, r]))
        const out = new Map<AlterConfigsResource, AlteredConfigs>()
        for (const item of items) {
          const r = byKey.get(`${RESOURCE_TYPE[item.type]}:${item.name}`)
          if (!r) continue
          const id = { type: item.type, name: item.name }
          out.set(
            item,
            r.errorCode === ErrorCode.NONE
              ? id
              : {
                  ...id,
                  error: resourceError(r.errorCode, 'IncrementalAlterConfigs', item, conn.broker, r.errorMessage),
                },
          )
        }
        return out
      },
      fail: (item, error) => ({ type: item.type, name: item.name, error }),
      retriable: (e) => e.retriable && e.code !== ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
    })
  } finally {
    call.finish()
  }
}

/** A broker or broker-logger resource naming a broker is answered by that broker only. */
function brokerFor(rt: AdminRuntime, r: ConfigResource): Target | undefined {
  if ((r.type === 'broker' || r.type === 'broker-logger') && r.name !== '') return rt.broker(Number(r.name))
  return undefined
}

function checkResources(operation: string, resources: readonly ConfigResource[]): void {
  for (const r of resources) {
    if (!(r.type in RESOURCE_TYPE))
      throw new ConfigError(`${operation}: unknown resource type ${JSON.stringify(r.type)}`)
    if (typeof r.name !== 'string') throw new ConfigError(`${operation}: a resource name must be a string`)
    if ((r.type === 'broker' || r.type === 'broker-logger') && r.name !== '' && !/^\d+$/.test(r.name))
      throw new ConfigError(`${operation}: a ${r.type} resource is named by node id, got ${JSON.stringify(r.name)}`)
  }
  const dup = firstDuplicate(resources, (r) => `${r.type} ${r.name}`)
  if (dup !== undefined) throw new ConfigError(`${operation}: ${dup} is listed twice`)
}

function resourceError(
  code: number,
  api: string,
  r: ConfigResource,
  broker: string,
  errorMessage: string | null,
): KafkaError {
  const context: KafkaErrorContext = { api, broker, errorMessage }
  if (r.type === 'topic') context.topic = r.name
  else if (r.type === 'group') context.group = r.name
  else if (!errorMessage) context.errorMessage = `${r.type} ${r.name || '(default)'}: ${errorByCode(code).message}`
  return KafkaError.fromCode(code, context)
}
