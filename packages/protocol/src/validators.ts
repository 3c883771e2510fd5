// The runtime validators: the generated standalone code (generated/*.ts) behind typed functions.
// `is(value)` is the hot path (true or false); `failure(value)` names what is wrong for an error message
// or a dead-letter reason, and is only called on a value `is` refused.
import {
  DispatchEnvelope,
  type DurableWrite,
  DurableWriteHeader,
  type DurableWriteType,
  MessageCreateWrite,
  MessageDeleteWrite,
  MessageUpdateWrite,
} from './envelopes.js';
import { ClientFrame, type Frame, ResponsePayload, ServerFrame } from './frames.js';
import * as input from './generated/client-input.js';
import * as service from './generated/service.js';
import { AddMemberBody, CreateChannelBody, Credentials, EditMessageBody, SendMessageBody } from './http.js';
import { AckBody, ReadAckParams } from './read-state.js';
import {
  HistoryGetParams,
  MessageCreateParams,
  MessageDeleteParams,
  MessageUpdateParams,
  type RequestMethod,
  type RequestParams,
  TypingStartParams,
} from './requests.js';
import type { ValidatedSchemaName } from './schemas.js';
import { SearchParams } from './search.js';

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
  readonly schema: object;
  is(value: unknown): value is T;
  /** Undefined when `value` is valid. An unknown field is named before any other problem. */
  failure(value: unknown): Failure | undefined;
}

const isPlainObject = (v: unknown): v is object => typeof v === 'object' && v !== null && !Array.isArray(v);

function firstSegment(path: string): string {
  const end = path.indexOf('/', 1);
  return (end < 0 ? path.slice(1) : path.slice(1, end)).replaceAll('~1', '/').replaceAll('~0', '~');
}

// Each validator is made by a call marked pure, so a bundler drops the ones an application never uses
// (the browser SDK needs two of them) together with their generated code.
function validator<T>(name: ValidatedSchemaName, schemaObject: object, generated: unknown): Validator<T> {
  const fn = generated as GeneratedValidator;
  const schema = schemaObject as { properties?: object; additionalProperties?: boolean };
  return {
    name,
    schema,
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

export const clientFrame = /* @__PURE__ */ validator<Frame>('ClientFrame', ClientFrame, input.validateClientFrame);
export const serverFrame = /* @__PURE__ */ validator<Frame>('ServerFrame', ServerFrame, service.validateServerFrame);
export const responsePayload = /* @__PURE__ */ validator<ResponsePayload>(
  'ResponsePayload',
  ResponsePayload,
  service.validateResponsePayload,
);

/** The params validator of each REQUEST method. */
export const requestParams: { readonly [M in RequestMethod]: Validator<RequestParams<M>> } = {
  'message.create': /* @__PURE__ */ validator(
    'MessageCreateParams',
    MessageCreateParams,
    input.validateMessageCreateParams,
  ),
  'message.update': /* @__PURE__ */ validator(
    'MessageUpdateParams',
    MessageUpdateParams,
    input.validateMessageUpdateParams,
  ),
  'message.delete': /* @__PURE__ */ validator(
    'MessageDeleteParams',
    MessageDeleteParams,
    input.validateMessageDeleteParams,
  ),
  'typing.start': /* @__PURE__ */ validator('TypingStartParams', TypingStartParams, input.validateTypingStartParams),
  'history.get': /* @__PURE__ */ validator('HistoryGetParams', HistoryGetParams, input.validateHistoryGetParams),
  'message.search': /* @__PURE__ */ validator('SearchParams', SearchParams, input.validateSearchParams),
  'read.ack': /* @__PURE__ */ validator('ReadAckParams', ReadAckParams, input.validateReadAckParams),
};

/** Request bodies of the HTTP API. */
export const httpBodies = {
  credentials: /* @__PURE__ */ validator<Credentials>('Credentials', Credentials, input.validateCredentials),
  createChannel: /* @__PURE__ */ validator<CreateChannelBody>(
    'CreateChannelBody',
    CreateChannelBody,
    input.validateCreateChannelBody,
  ),
  addMember: /* @__PURE__ */ validator<AddMemberBody>('AddMemberBody', AddMemberBody, input.validateAddMemberBody),
  sendMessage: /* @__PURE__ */ validator<SendMessageBody>(
    'SendMessageBody',
    SendMessageBody,
    input.validateSendMessageBody,
  ),
  editMessage: /* @__PURE__ */ validator<EditMessageBody>(
    'EditMessageBody',
    EditMessageBody,
    input.validateEditMessageBody,
  ),
  ack: /* @__PURE__ */ validator<AckBody>('AckBody', AckBody, input.validateAckBody),
} as const;

export const dispatchEnvelope = /* @__PURE__ */ validator<DispatchEnvelope>(
  'DispatchEnvelope',
  DispatchEnvelope,
  service.validateDispatchEnvelope,
);
/** The routing fields of a durable write (what the router checks). */
export const durableWriteHeader = /* @__PURE__ */ validator<DurableWrite>(
  'DurableWriteHeader',
  DurableWriteHeader,
  service.validateDurableWriteHeader,
);
/** Whole durable writes, by type (what the persister checks). */
export const durableWrites: { readonly [K in DurableWriteType]: Validator<Extract<DurableWrite, { type: K }>> } = {
  'message.create': /* @__PURE__ */ validator(
    'MessageCreateWrite',
    MessageCreateWrite,
    service.validateMessageCreateWrite,
  ),
  'message.update': /* @__PURE__ */ validator(
    'MessageUpdateWrite',
    MessageUpdateWrite,
    service.validateMessageUpdateWrite,
  ),
  'message.delete': /* @__PURE__ */ validator(
    'MessageDeleteWrite',
    MessageDeleteWrite,
    service.validateMessageDeleteWrite,
  ),
};
