// Every schema that gets a generated validator, by name: the generator (scripts/generate-validators.ts)
// emits `validate<Name>` for each into src/generated/validators.ts, and the docs generator reads them too.
import {
  DispatchEnvelope,
  DurableWriteHeader,
  MessageCreateWrite,
  MessageDeleteWrite,
  MessageUpdateWrite,
} from './envelopes.js';
import { ClientFrame, ResponsePayload, ServerFrame } from './frames.js';
import { AddMemberBody, CreateChannelBody, Credentials, EditMessageBody, SendMessageBody } from './http.js';
import {
  HistoryGetParams,
  MessageCreateParams,
  MessageDeleteParams,
  MessageUpdateParams,
  TypingStartParams,
} from './requests.js';

export const VALIDATED_SCHEMAS = {
  ClientFrame,
  ServerFrame,
  ResponsePayload,
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
  DispatchEnvelope,
  DurableWriteHeader,
  MessageCreateWrite,
  MessageUpdateWrite,
  MessageDeleteWrite,
} as const;
export type ValidatedSchemaName = keyof typeof VALIDATED_SCHEMAS;
