// The runtime validators: the generated standalone code (generated/*.ts) behind typed functions.
// `is(value)` is the hot path (true or false); `failure(value)` names what is wrong for an error message
// or a dead-letter reason, and is only called on a value `is` refused.
import type { DispatchEnvelope, DurableWrite, DurableWriteType } from './envelopes.js';
import type { Frame, ResponsePayload } from './frames.js';
import * as clientInput from './generated/client-input.js';
import * as service from './generated/service.js';
import type { AddMemberBody, CreateChannelBody, Credentials, EditMessageBody, SendMessageBody } from './http.js';
import type { RequestMethod, RequestParams } from './requests.js';
import { VALIDATED_SCHEMAS, type ValidatedSchemaName } from './schemas.js';

/** What is wrong with a value, at its top level. `field` is '' for the value itself. */
export interface Failure {
  kind: 'not_an_object' | 'unknown_field' | 'missing' | 'invalid' | 'no_match';
  field: string;
}

interface AjvError {
  instancePath: string;
  keyword: string;
  params: { missingProperty?: string; additionalProperty?: string };
}
type GeneratedValidator = ((value: unknown) => boolean) & { errors?: AjvError[] | null };

export interface Validator<T> {
  readonly name: ValidatedSchemaName;
  readonly schema: (typeof VALIDATED_SCHEMAS)[ValidatedSchemaName];
  is(value: unknown): value is T;
  /** Undefined when `value` is valid. An unknown field is named before any other problem. */
  failure(value: unknown): Failure | undefined;
}

const isPlainObject = (v: unknown): v is object => typeof v === 'object' && v !== null && !Array.isArray(v);

function firstSegment(path: string): string {
  const end = path.indexOf('/', 1);
  return (end < 0 ? path.slice(1) : path.slice(1, end)).replaceAll('~1', '/').replaceAll('~0', '~');
}

function validator<T>(name: ValidatedSchemaName): Validator<T> {
  const generated = { ...clientInput, ...service } as unknown as Record<string, GeneratedValidator>;
  const fn = generated[`validate${name}`]!;
  const schema = VALIDATED_SCHEMAS[name] as { properties?: object; additionalProperties?: boolean };
  return {
    name,
    schema: VALIDATED_SCHEMAS[name],
    is: (value: unknown): value is T => fn(value),
    failure(value) {
      if (fn(value)) return undefined;
      if (schema.additionalProperties === false && schema.properties && isPlainObject(value)) {
        for (const key of Object.keys(value))
          if (!Object.hasOwn(schema.properties, key)) return { kind: 'unknown_field', field: key };
      }
      const errors = fn.errors ?? [];
      if (isPlainObject(value) && errors.some((e) => e.instancePath === '' && e.keyword === 'anyOf'))
        return { kind: 'no_match', field: '' };
      const e = errors[0];
      if (!e || (e.instancePath === '' && e.keyword === 'type')) return { kind: 'not_an_object', field: '' };
      if (e.keyword === 'required' && e.instancePath === '')
        return { kind: 'missing', field: e.params.missingProperty! };
      if (e.keyword === 'additionalProperties' && e.instancePath === '')
        return { kind: 'unknown_field', field: e.params.additionalProperty! };
      return { kind: 'invalid', field: firstSegment(e.instancePath) };
    },
  };
}

export const clientFrame = validator<Frame>('ClientFrame');
export const serverFrame = validator<Frame>('ServerFrame');
export const responsePayload = validator<ResponsePayload>('ResponsePayload');

/** The params validator of each REQUEST method. */
export const requestParams: { readonly [M in RequestMethod]: Validator<RequestParams<M>> } = {
  'message.create': validator('MessageCreateParams'),
  'message.update': validator('MessageUpdateParams'),
  'message.delete': validator('MessageDeleteParams'),
  'typing.start': validator('TypingStartParams'),
  'history.get': validator('HistoryGetParams'),
};

/** Request bodies of the HTTP API. */
export const httpBodies = {
  credentials: validator<Credentials>('Credentials'),
  createChannel: validator<CreateChannelBody>('CreateChannelBody'),
  addMember: validator<AddMemberBody>('AddMemberBody'),
  sendMessage: validator<SendMessageBody>('SendMessageBody'),
  editMessage: validator<EditMessageBody>('EditMessageBody'),
} as const;

export const dispatchEnvelope = validator<DispatchEnvelope>('DispatchEnvelope');
/** The routing fields of a durable write (what the router checks). */
export const durableWriteHeader = validator<DurableWrite>('DurableWriteHeader');
/** Whole durable writes, by type (what the persister checks). */
export const durableWrites: { readonly [K in DurableWriteType]: Validator<Extract<DurableWrite, { type: K }>> } = {
  'message.create': validator('MessageCreateWrite'),
  'message.update': validator('MessageUpdateWrite'),
  'message.delete': validator('MessageDeleteWrite'),
};
