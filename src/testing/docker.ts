import { existsSync } from 'node:fs'
import http from 'node:http'

/**
 * Does a Docker engine answer? Pings `$DOCKER_HOST` (unix or tcp) or /var/run/docker.sock within `timeoutMs`.
 * A docker CLI without an engine (as on our CI machines) answers no.
 */
export function dockerEngineAnswers(timeoutMs = 1500): Promise<boolean> {
  const dockerHost = process.env.DOCKER_HOST
  let target: http.RequestOptions
  if (dockerHost?.startsWith('tcp://')) {
    const u = new URL(dockerHost.replace(/^tcp:/, 'http:'))
    target = { host: u.hostname, port: u.port || 2375 }
  } else {
    const socketPath = dockerHost?.startsWith('unix://') ? dockerHost.slice('unix://'.length) : '/var/run/docker.sock'
    if (!existsSync(socketPath)) return Promise.resolve(false)
    target = { socketPath }
  }
  return new Promise((resolve) => {
    const req = http.get({ ...target, path: '/_ping', timeout: timeoutMs }, (res) => {
      res.resume()
      resolve(res.statusCode === 200)
    })
    req.on('timeout', () => {
      req.destroy()
      resolve(false)
    })
    req.on('error', () => resolve(false))
  })
}
