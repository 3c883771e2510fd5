// Who published a durable write. Every durable write carries the AMQP `user_id` property set to the
// broker account of the publishing connection; RabbitMQ refuses a publish whose `user_id` differs
// from the connection's user (channel error PRECONDITION_FAILED), so a consumer can trust the
// property: it names the account that published, whatever the body claims. A persister that accepts
// writes only from the accounts allowed to write (gateways, services using this router) keeps a
// broker login with other rights (monitoring, an operator's UI) from posting as anyone.
import { InvalidArgumentError } from './errors.js';

/** Dead-letter reason of a durable write whose publisher is not among the accepted writers. */
export const WRITER_NOT_ALLOWED = 'writer_not_allowed';

/** The AMQP user amqplib logs in as for a URL: its user name, or `guest` when the URL names none. */
export function amqpUserOf(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InvalidArgumentError(`not a URL: ${url.replace(/\/\/[^@/]*@/, '//***@')}`);
  }
  if (parsed.username === '' && parsed.password === '') return 'guest';
  return decodeURIComponent(parsed.username);
}

/** The one AMQP user of a router's broker URLs (they must agree: `user_id` must match whichever is connected). */
export function sharedAmqpUser(urls: readonly string[]): string {
  const users = new Set(urls.map(amqpUserOf));
  if (users.size !== 1) throw new InvalidArgumentError('every broker URL must name the same AMQP user');
  return [...users][0]!;
}

/**
 * Why a write published as `userId` (the message's `user_id` property) is not accepted, or
 * undefined when it is. `accepted` undefined accepts every writer.
 */
export function writerProblem(userId: unknown, accepted: ReadonlySet<string> | undefined): string | undefined {
  if (accepted === undefined) return undefined;
  return typeof userId === 'string' && accepted.has(userId) ? undefined : WRITER_NOT_ALLOWED;
}
