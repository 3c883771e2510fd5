// Every schema that gets a generated validator, by name: the generator (scripts/generate-validators.ts)
// emits `validate<Name>` for each into src/generated/, and the docs generator reads them too. Two groups:
// what clients send (checked looking at own properties only, the gateway's guarantee against inherited
// and prototype names) and what services exchange over AMQP (JSON our services wrote: plain checks, 4x
// cheaper on a durable write, see README "Choosing the validator generator").
import {
  DispatchEnvelope,
  DurableWriteHeader,
  MessageCreateWrite,
  MessageDeleteWrite,
  MessageUpdateWrite,
} from './envelopes.js';
import { ClientFrame, ResponsePayload, ServerFrame } from './frames.js';
import { AddMemberBody, CreateChannelBody, Credentials, EditMessageBody, SendMessageBody } from './http.js';
import { AckBody, ReadAckParams } from './read-state.js';
import {
  HistoryGetParams,
  MessageCreateParams,
  MessageDeleteParams,
  MessageUpdateParams,
  TypingStartParams,
} from './requests.js';
import { SearchParams } from './search.js';

/** Input from clients: frames, REQUEST params, HTTP bodies. */
export const CLIENT_INPUT_SCHEMAS = {
  ClientFrame,
  MessageCreateParams,
  MessageUpdateParams,
  MessageDeleteParams,
  TypingStartParams,
  HistoryGetParams,
  Credentials,
  CreateChannelBody,
  AddMemberBody,
  SendMessageBody,
  EditMessageBody,
  SearchParams,
  ReadAckParams,
  AckBody,
} as const;

/** What services and the gateway send: frames to clients, AMQP envelopes. */
export const SERVICE_SCHEMAS = {
  ServerFrame,
  ResponsePayload,
  DispatchEnvelope,
  DurableWriteHeader,
  MessageCreateWrite,
  MessageUpdateWrite,
  MessageDeleteWrite,
} as const;

export const VALIDATED_SCHEMAS = { ...CLIENT_INPUT_SCHEMAS, ...SERVICE_SCHEMAS } as const;
export type ValidatedSchemaName = keyof typeof VALIDATED_SCHEMAS;
