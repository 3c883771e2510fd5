// The routes of the HTTP API (docs/protocol.md §6.2), relative to `/api/v1` (`/api` is an alias): method,
// path, whether a token is needed, the request body and the answer. The OpenAPI document is generated from
// this table and the schemas (scripts/api-docs.ts).
import { ADMIN_HTTP_ROUTES } from './admin-routes.js';
import type { ApiErrorCode } from './errors.js';
import {
  AddMemberBody,
  CreateChannelBody,
  Credentials,
  EditMessageBody,
  HTTP_RESULTS,
  SendMessageBody,
} from './http.js';
import { AckBody } from './read-state.js';
import { SearchParams } from './search.js';

export interface HttpRoute {
  /** The gateway's route name (its metrics label). */
  name: string;
  method: 'get' | 'post' | 'patch' | 'delete';
  /** OpenAPI-style path: `{channel_id}` for a path id. */
  path: string;
  auth: boolean;
  summary: string;
  body?: object;
  /** 204 when there is no response body. */
  status: 200 | 201 | 204;
  result?: object;
  /** The query parameters, as an object schema (each property one parameter); absent: none (history's are listed by the docs generator). */
  query?: { properties: object };
  /** Error codes this route answers besides the ones every route may (invalid_json, rate_limited, internal…). */
  errors: readonly ApiErrorCode[];
  /** Path parameters that are not snowflake ids, with their schemas. */
  pathParams?: Readonly<Record<string, object>>;
}

const member = ['not_a_member', 'not_found'] as const;

export const HTTP_ROUTES: readonly HttpRoute[] = [
  {
    name: 'register',
    method: 'post',
    path: '/users',
    auth: false,
    summary: 'Sign up; the user joins the default group',
    body: Credentials,
    status: 201,
    result: HTTP_RESULTS.register,
    errors: ['invalid_request', 'unknown_field', 'username_taken', 'overloaded'],
  },
  {
    name: 'login',
    method: 'post',
    path: '/sessions',
    auth: false,
    summary: 'Log in: a bearer token for the HTTP API and IDENTIFY',
    body: Credentials,
    status: 200,
    result: HTTP_RESULTS.login,
    errors: ['invalid_request', 'unknown_field', 'unauthorized', 'overloaded'],
  },
  {
    name: 'logout',
    method: 'delete',
    path: '/sessions',
    auth: true,
    summary: 'Revoke every token issued to the caller so far',
    status: 204,
    errors: ['unauthorized'],
  },
  {
    name: 'me',
    method: 'get',
    path: '/users/@me',
    auth: true,
    summary: 'The caller',
    status: 200,
    result: HTTP_RESULTS.me,
    errors: ['unauthorized'],
  },
  {
    name: 'my_channels',
    method: 'get',
    path: '/users/@me/channels',
    auth: true,
    summary: "The caller's channels",
    status: 200,
    result: HTTP_RESULTS.my_channels,
    errors: ['unauthorized'],
  },
  {
    name: 'create_channel',
    method: 'post',
    path: '/channels',
    auth: true,
    summary: 'Create a DM (or get the existing one) or a group',
    body: CreateChannelBody,
    status: 201,
    result: HTTP_RESULTS.create_channel,
    errors: ['invalid_request', 'unknown_field', 'unauthorized', 'not_found', 'limit_reached'],
  },
  {
    name: 'add_member',
    method: 'post',
    path: '/channels/{channel_id}/members',
    auth: true,
    summary: 'Add a member to a group',
    body: AddMemberBody,
    status: 204,
    errors: ['invalid_request', 'unknown_field', 'unauthorized', ...member, 'forbidden', 'limit_reached'],
  },
  {
    name: 'remove_member',
    method: 'delete',
    path: '/channels/{channel_id}/members/{user_id}',
    auth: true,
    summary: 'Remove a member (yourself, or anyone as the owner)',
    status: 204,
    errors: ['unauthorized', ...member, 'forbidden'],
  },
  {
    name: 'history',
    method: 'get',
    path: '/channels/{channel_id}/messages',
    auth: true,
    summary: 'A page of history, newest first (query: before, after, limit 1..100)',
    status: 200,
    result: HTTP_RESULTS.history,
    errors: ['invalid_request', 'unknown_field', 'unauthorized', ...member],
  },
  {
    name: 'send',
    method: 'post',
    path: '/channels/{channel_id}/messages',
    auth: true,
    summary: 'Send a message; answered after the broker confirmed the durable write',
    body: SendMessageBody,
    status: 201,
    result: HTTP_RESULTS.send,
    errors: ['invalid_request', 'unknown_field', 'unauthorized', ...member, 'payload_too_large', 'overloaded'],
  },
  {
    name: 'edit',
    method: 'patch',
    path: '/channels/{channel_id}/messages/{message_id}',
    auth: true,
    summary: 'Edit your message',
    body: EditMessageBody,
    status: 200,
    result: HTTP_RESULTS.edit,
    errors: ['invalid_request', 'unknown_field', 'unauthorized', ...member, 'not_author', 'payload_too_large'],
  },
  {
    name: 'delete',
    method: 'delete',
    path: '/channels/{channel_id}/messages/{message_id}',
    auth: true,
    summary: 'Delete your message',
    status: 204,
    errors: ['unauthorized', ...member, 'not_author'],
  },
  {
    name: 'search',
    method: 'get',
    path: '/search',
    auth: true,
    summary:
      "Messages of the caller's channels holding every word of q, newest first (query: q, channel_id, before, limit 1..50)",
    query: SearchParams,
    status: 200,
    result: HTTP_RESULTS.search,
    errors: ['invalid_request', 'unknown_field', 'unauthorized', 'not_a_member'],
  },
  {
    name: 'replies',
    method: 'get',
    path: '/channels/{channel_id}/messages/{message_id}/replies',
    auth: true,
    summary: "A page of a message's replies, newest first (query: before, limit 1..100)",
    status: 200,
    result: HTTP_RESULTS.replies,
    errors: ['invalid_request', 'unknown_field', 'unauthorized', ...member],
  },
  {
    name: 'ack',
    method: 'post',
    path: '/channels/{channel_id}/ack',
    auth: true,
    summary: 'Mark the channel read up to a message (never backwards); the other sessions get ACK',
    body: AckBody,
    status: 200,
    result: HTTP_RESULTS.ack,
    errors: ['invalid_request', 'unknown_field', 'unauthorized', ...member],
  },
  ...ADMIN_HTTP_ROUTES,
];

/** Errors any route may answer. */
export const COMMON_HTTP_ERRORS: readonly ApiErrorCode[] = [
  'invalid_json',
  'rate_limited',
  'internal',
  'unavailable',
  'method_not_allowed',
];
