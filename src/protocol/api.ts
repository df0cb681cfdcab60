import type { StructType } from './schema.js'
import { inRange, parseVersions, type VersionRange } from './versions.js'

/** One Kafka API: its key, the versions this client speaks, and the request/response codecs. */
export interface Api<Req = any, ReqIn = any, Res = any, ResIn = any> {
  readonly key: number
  readonly name: string
  /** Versions this client implements: from the 4.x minimum (KIP-896) to the newest in the 4.4 schemas. */
  readonly versions: VersionRange
  readonly flexibleVersions: VersionRange
  readonly request: StructType<Req, ReqIn>
  readonly response: StructType<Res, ResIn>
  /**
   * ApiVersions responses always use response header v0, whatever the version, so that a client can read the
   * error of an unsupported request version (KIP-511).
   */
  readonly responseHeaderAlwaysV0: boolean
  isFlexible(version: number): boolean
}

export type RequestOf<A> = A extends Api<any, infer ReqIn, any, any> ? ReqIn : never
export type ResponseOf<A> = A extends Api<any, any, infer Res, any> ? Res : never
export type DecodedRequestOf<A> = A extends Api<infer Req, any, any, any> ? Req : never
export type EncodableResponseOf<A> = A extends Api<any, any, any, infer ResIn> ? ResIn : never

export interface ApiSpec<Req, ReqIn, Res, ResIn> {
  key: number
  name: string
  /** As `validVersions` in the schema, e.g. `"0-13"`. */
  versions: string
  /** As `flexibleVersions` in the schema, e.g. `"9+"` or `"none"`. */
  flexibleVersions: string
  request: StructType<Req, ReqIn>
  response: StructType<Res, ResIn>
  responseHeaderAlwaysV0?: boolean
}

export function defineApi<Req, ReqIn, Res, ResIn>(spec: ApiSpec<Req, ReqIn, Res, ResIn>): Api<Req, ReqIn, Res, ResIn> {
  const flexibleVersions = parseVersions(spec.flexibleVersions)
  return {
    key: spec.key,
    name: spec.name,
    versions: parseVersions(spec.versions),
    flexibleVersions,
    request: spec.request,
    response: spec.response,
    responseHeaderAlwaysV0: spec.responseHeaderAlwaysV0 ?? false,
    isFlexible: (v) => inRange(v, flexibleVersions),
  }
}
