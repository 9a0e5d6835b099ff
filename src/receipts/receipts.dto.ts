import { AppScopedQueryDto } from '../common/query-params';

export class MessageReceiptsQueryDto extends AppScopedQueryDto {}

export interface ReceiptEntryDto {
  uid: string;
  at: string;
  /** Receipt time minus the message's sentAt; null until the message is known. */
  latencyMs: number | null;
  /** Derived from a receipt for a later message (or, for delivery, from a read). */
  implied: boolean;
}

export interface MessageReceiptsDto {
  messageId: string;
  appId: string;
  sender: string | null;
  receiver: string | null;
  receiverType: 'user' | 'group' | null;
  conversationId: string | null;
  /** Null while the message itself has not arrived. */
  sentAt: string | null;
  delivered: ReceiptEntryDto[];
  read: ReceiptEntryDto[];
  summary: {
    /** One-to-one: 1. Groups: the distinct members with a known receipt. */
    recipients: number;
    deliveredCount: number;
    readCount: number;
    deliveredToAllAt: string | null;
    readByAllAt: string | null;
  };
}
