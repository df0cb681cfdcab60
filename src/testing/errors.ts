import { SkiffError } from '../errors.js'

/** The test broker could not be resolved, started, or controlled. */
export class HarnessError extends SkiffError {
  override name = 'HarnessError'
  constructor(message: string, cause?: unknown) {
    super(message, { cause })
  }
}
