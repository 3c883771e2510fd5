// The operator's view's settings (docs/operations.md "Operator's view"), read by config.ts: the admin role
// is granted by configuration only — ADMIN_USERS names users (by username or user id); no API grants it.
// The queue figures come from the RabbitMQ management API at RABBITMQ_MANAGEMENT_URL with its own account.
import { url } from '@chat/service-kit';

export interface AdminConfig {
  /** Usernames and user ids of the admins (ADMIN_USERS); empty: nobody is an admin. */
  readonly users: readonly string[];
  /** Base URL of the RabbitMQ management API without a trailing slash, e.g. http://rabbitmq-1:15672. */
  readonly managementUrl: string;
  readonly managementUser: string;
  readonly managementPassword: string;
  /** The vhost of the broker URLs (their path; `/` when none). */
  readonly vhost: string;
}

/** The vhost an amqp:// URL names: its decoded path without the leading slash, `/` when empty. */
export function vhostOf(amqpUrl: string): string {
  const path = new URL(amqpUrl).pathname.replace(/^\//, '');
  return path === '' ? '/' : decodeURIComponent(path);
}

/** RABBITMQ_MANAGEMENT_URL checked (http or https) and without trailing slashes. */
export function managementBase(value: string): string {
  return url('RABBITMQ_MANAGEMENT_URL', value, ['http:', 'https:']).replace(/\/+$/, '');
}
