/** A condition that stops the feed with a one-line reason on standard error and exit status 1. */
export class FeedError extends Error {
  override readonly name = "FeedError";
  constructor(
    message: string,
    /** The exit status: 1, or 2 when the master can no longer continue from the checkpoint. */
    readonly exitCode = 1,
  ) {
    super(message);
  }
}
