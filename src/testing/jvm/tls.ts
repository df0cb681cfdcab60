import { join } from 'node:path'
import { HarnessError } from '../errors.js'
import { runJava } from './process.js'

/**
 * A self-signed certificate for 127.0.0.1 and localhost, made with the JDK's keytool (no openssl needed): a PKCS12
 * keystore for the broker and the certificate as PEM for clients to trust.
 */
export async function generateTlsKeystore(dir: string, java: string, signal?: AbortSignal) {
  const keytool = java === 'java' ? 'keytool' : join(java, '..', 'keytool')
  const keystore = join(dir, 'broker.p12')
  const caPem = join(dir, 'broker-ca.pem')
  const password = 'skiff-test-keystore'
  const gen = await runJava(
    keytool,
    [
      '-genkeypair',
      '-alias',
      'broker',
      '-keyalg',
      'RSA',
      '-keysize',
      '2048',
      '-validity',
      '30',
      '-dname',
      'CN=localhost',
      '-ext',
      'SAN=ip:127.0.0.1,dns:localhost',
      '-ext',
      'BC:c=ca:true',
      '-keystore',
      keystore,
      '-storetype',
      'PKCS12',
      '-storepass',
      password,
      '-keypass',
      password,
    ],
    60_000,
    signal,
  )
  if (gen.code !== 0) throw new HarnessError(`keytool could not create the test certificate:\n${gen.output}`)
  const exp = await runJava(
    keytool,
    ['-exportcert', '-rfc', '-alias', 'broker', '-keystore', keystore, '-storepass', password, '-file', caPem],
    60_000,
    signal,
  )
  if (exp.code !== 0) throw new HarnessError(`keytool could not export the test certificate:\n${exp.output}`)
  return { keystore, caPem, password }
}
