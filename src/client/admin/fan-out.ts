import { ErrorCode } from '../../protocol/error-codes.js'
import { KafkaError } from '../../protocol/kafka-error.js'
import { RequestTimeoutError } from '../errors.js'
import { type AdminConnection, type Call, isRetriable } from './call.js'
import type { AdminRuntime, Target } from './runtime.js'

/** Items bound for one broker, sent as one request. */
export interface Route<I> {
  target: Target
  items: I[]
}

/** Where each pending item goes, or why it cannot go anywhere this round. */
export interface Routing<I> {
  routes: Route<I>[]
  /** Items that failed for good before any request (e.g. a topic the cluster does not have). */
  failed?: Map<I, KafkaError>
  /** Items to route again after a backoff (e.g. a partition without a leader during an election). */
  retry?: Map<I, KafkaError>
}

/** How one multi-item admin call routes, sends and reports its items. */
export interface FanOutSpec<I, R extends { readonly error?: KafkaError }> {
  /** Groups the pending items by destination. */
  route(items: readonly I[], call: Call): Promise<Routing<I>>
  /**
   * Sends one request for `items` and maps the answer to a result per item. Throwing a KafkaError applies it to
   * every item of the request (a request-level error code); a retriable connection failure retries them all.
   */
  send(conn: AdminConnection, items: readonly I[], call: Call, target: Target): Promise<Map<I, R>>
  /** The result reporting that `item` failed with `error`. */
  fail(item: I, error: KafkaError): R
  /** Whether an item that failed with `error` should be retried (default: Kafka says the code is retriable). */
  retriable?(error: KafkaError): boolean
}

/**
 * Runs a call that addresses many items (topics, partitions, groups, brokers), each possibly on a different
 * broker: routes the items, sends one request per destination in parallel, and retries — re-routing after
 * refreshing metadata or coordinators — only the items whose answer was retriable, until they settle or the call's
 * deadline passes. Results come back in the order of `items`.
 *
 * When time runs out, items still unsettled report their last retriable Kafka error, or REQUEST_TIMED_OUT /
 * NETWORK_EXCEPTION when their broker never answered — unless no broker answered for any item, which fails the
 * whole call with an `AdminTimeoutError`. A caller's abort and non-retriable failures other than Kafka error codes
 * (an unsupported version, a protocol error) reject the call.
 */
export async function fanOut<I, R extends { readonly error?: KafkaError }>(
  rt: AdminRuntime,
  call: Call,
  items: readonly I[],
  spec: FanOutSpec<I, R>,
): Promise<R[]> {
  const retriable = spec.retriable ?? ((e: KafkaError) => e.retriable)
  const done = new Map<I, R>()
  const lastError = new Map<I, KafkaError>()
  let lastTransport: unknown
  let pending: I[] = [...new Set(items)]

  const settle = (item: I, result: R, again: Set<I>) => {
    if (result.error && retriable(result.error)) {
      lastError.set(item, result.error)
      again.add(item)
      rt.noteFailure(result.error)
    } else done.set(item, result)
  }

  while (pending.length > 0) {
    const again = new Set<I>()
    try {
      const routing = await spec.route(pending, call)
      for (const [item, error] of routing.failed ?? []) done.set(item, spec.fail(item, error))
      for (const [item, error] of routing.retry ?? []) settle(item, spec.fail(item, error), again)
      await Promise.all(
        routing.routes.map(async ({ target, items: batch }) => {
          try {
            const conn = await target.connect(call)
            const results = await spec.send(conn, batch, call, target)
            for (const item of batch) settle(item, results.get(item) ?? spec.fail(item, omitted(conn)), again)
          } catch (err) {
            if (call.expired || call.aborted) throw err
            if (err instanceof KafkaError) {
              for (const item of batch) settle(item, spec.fail(item, err), again)
            } else if (isRetriable(err)) {
              lastTransport = err
              rt.noteFailure(err)
              for (const item of batch) again.add(item)
            } else throw err
          }
        }),
      )
    } catch (err) {
      if (call.aborted) call.checkpoint()
      if (call.expired) break
      if (!isRetriable(err)) throw err
      // Routing itself failed (metadata or FindCoordinator unreachable): every pending item goes round again.
      lastTransport = err
      rt.noteFailure(err)
      for (const item of pending) if (!done.has(item)) again.add(item)
    }
    // An item the routing neither sent, failed nor deferred would otherwise vanish from the results.
    for (const item of pending) {
      if (!done.has(item) && !again.has(item) && !call.expired) done.set(item, spec.fail(item, unrouted()))
    }
    pending = [...again].filter((item) => !done.has(item))
    if (pending.length === 0 || call.expired) break
    await call.backoff()
    if (call.aborted || call.expired) break
  }

  if (call.aborted) call.checkpoint()
  if (pending.length > 0) {
    // Nothing settled and no broker gave any item an answer: the call as a whole failed.
    if (done.size === 0 && lastError.size === 0) throw call.timeoutError(lastTransport)
    for (const item of pending) {
      done.set(item, spec.fail(item, lastError.get(item) ?? unanswered(lastTransport, call)))
    }
  }
  return items.map((item) => done.get(item)!)
}

/** Groups items into routes by target id. */
export function groupRoutes<I>(entries: Iterable<[I, Target]>): Route<I>[] {
  const routes = new Map<string, Route<I>>()
  for (const [item, target] of entries) {
    let route = routes.get(target.id)
    if (!route) routes.set(target.id, (route = { target, items: [] }))
    route.items.push(item)
  }
  return [...routes.values()]
}

/** The error for an item a broker's answer left out (a broker bug, or a response we misread). */
function omitted(conn: AdminConnection): KafkaError {
  return KafkaError.fromCode(ErrorCode.UNKNOWN_SERVER_ERROR, {
    broker: conn.broker,
    errorMessage: 'the response did not mention this item',
  })
}

function unrouted(): KafkaError {
  return KafkaError.fromCode(ErrorCode.UNKNOWN_SERVER_ERROR, {
    errorMessage: 'the client found nowhere to send this item',
  })
}

/** The error for an item whose broker did not answer in time (as Kafka's Java admin client reports it). */
function unanswered(lastTransport: unknown, call: Call): KafkaError {
  if (lastTransport instanceof KafkaError) return lastTransport
  const timedOut = lastTransport === undefined || lastTransport instanceof RequestTimeoutError
  return KafkaError.fromCode(timedOut ? ErrorCode.REQUEST_TIMED_OUT : ErrorCode.NETWORK_EXCEPTION, {
    errorMessage:
      lastTransport instanceof Error
        ? `no answer within ${call.timeoutMs} ms; last failure: ${lastTransport.message}`
        : `no answer within ${call.timeoutMs} ms`,
    cause: lastTransport,
  })
}
