import { ApiProperty } from '@nestjs/swagger';
import type { ExamplesObject, SchemaObject } from '@nestjs/swagger';
import { KNOWN_TRIGGERS } from '../ingest/cometchat-event';

/** The answer to a stored event (`{}` for before_message). */
export class WebhookAckDto {
  @ApiProperty({ description: 'Id of the stored raw event (GET /events)', example: '42' })
  eventId: string;
  @ApiProperty({
    description: 'true when this was a redelivery of a stored event; nothing changed',
  })
  duplicate: boolean;
}

export class WebhookRejectedDto {
  @ApiProperty({ example: 400 }) statusCode: number;
  @ApiProperty({ example: 'Bad Request' }) error: string;
  @ApiProperty({ example: 'data.sentAt must be a Unix time (number or numeric string)' })
  message: string;
  @ApiProperty({ description: 'The payload field at fault', example: 'data.sentAt' })
  field: string;
  @ApiProperty({ description: 'Id of the kept body (GET /events/rejected)', example: '7' })
  rejectedId: string;
}

/** The envelope both CometChat formats share; `data` differs by trigger and format. */
export const COMETCHAT_EVENT_SCHEMA: SchemaObject = {
  type: 'object',
  required: ['trigger', 'appId'],
  additionalProperties: true,
  properties: {
    trigger: {
      type: 'string',
      description: `One of ${KNOWN_TRIGGERS.join(', ')}; any other trigger is kept as a raw event.`,
      example: 'after_message',
    },
    appId: { type: 'string', example: '167*****1529' },
    webhook: {
      type: 'string',
      description: 'The webhook name set in CometChat',
      example: 'send-message',
    },
    region: { type: 'string', example: 'us' },
    chatAPIVersion: { type: 'string', example: '3.0' },
    origin: { type: 'object', properties: { platform: { type: 'string', example: 'WEBSOCKET' } } },
    data: {
      type: 'object',
      additionalProperties: true,
      description: 'The event; see the examples',
    },
  },
};

/** One example per kind of event, in both formats (checked by test/openapi.e2e-spec.ts). */
export const COMETCHAT_EVENT_EXAMPLES: ExamplesObject = {
  after_message: {
    summary: 'Legacy: a message was sent',
    value: {
      trigger: 'after_message',
      appId: '167*****1529',
      webhook: 'send-message',
      data: {
        id: '1',
        conversationId: 'cometchat-uid-4_user_cometchat-uid-5',
        sender: 'cometchat-uid-5',
        receiverType: 'user',
        receiver: 'cometchat-uid-4',
        category: 'message',
        type: 'text',
        data: { text: 'Hi Webhook Test' },
        sentAt: 1586435925,
        updatedAt: 1586435925,
      },
    },
  },
  message_sent: {
    summary: 'Current: a message was sent',
    value: {
      trigger: 'message_sent',
      appId: '167*****1529',
      region: 'eu',
      webhook: 'messages',
      data: {
        message: {
          id: '2',
          conversationId: 'cometchat-uid-4_user_cometchat-uid-5',
          sender: 'cometchat-uid-4',
          receiverType: 'user',
          receiver: 'cometchat-uid-5',
          category: 'message',
          type: 'text',
          data: { text: 'Hello back' },
          sentAt: 1586435990,
        },
      },
    },
  },
  message_read_receipt_legacy: {
    summary: 'Legacy: a read receipt',
    value: {
      trigger: 'message_read_receipt',
      appId: '167*****1529',
      origin: { platform: 'WEBSOCKET' },
      chatAPIVersion: '3.0',
      region: 'us',
      webhook: 'receipts-webhook',
      data: {
        messageId: '1',
        receiptType: 'read',
        readAt: 1586436000,
        messageSender: 'cometchat-uid-5',
        receiptSender: 'cometchat-uid-4',
        receiptReceiver: 'cometchat-uid-5',
        receiverType: 'user',
      },
    },
  },
  message_delivery_receipt_current: {
    summary: 'Current: a delivery receipt',
    value: {
      trigger: 'message_delivery_receipt',
      appId: '167*****1529',
      region: 'eu',
      webhook: 'receipts',
      data: {
        sender: 'cometchat-uid-5',
        receiver: 'cometchat-uid-4',
        receiverType: 'user',
        messageSender: 'cometchat-uid-4',
        type: 'receipts',
        body: {
          action: 'delivered',
          messageId: '2',
          timestamp: 1586435991,
          user: { uid: 'cometchat-uid-5', name: 'John Paul' },
        },
      },
    },
  },
  after_connection_status_changed: {
    summary: 'Legacy: a device connected (times in ms)',
    value: {
      trigger: 'after_connection_status_changed',
      appId: '167*****1529',
      origin: { platform: 'WEBSOCKET' },
      chatAPIVersion: '3.0',
      region: 'us',
      webhook: 'presence',
      data: {
        user: {
          uid: 'cometchat-uid-5',
          status: 'online',
          status_updated: true,
          status_updated_at: 1586435900000,
        },
        event: {
          type: 'connected',
          at: 1586435900000,
          event_for: {
            connected_at: 1586435900000,
            cometchat_device_id: 'device-1',
            session_id: 'session-1',
            platform: 'web',
          },
        },
        connections: [
          {
            connected_at: 1586435900000,
            cometchat_device_id: 'device-1',
            session_id: 'session-1',
            platform: 'web',
          },
        ],
      },
    },
  },
  user_connection_status_changed: {
    summary: 'Current: a device disconnected',
    value: {
      trigger: 'user_connection_status_changed',
      appId: '167*****1529',
      region: 'eu',
      webhook: 'presence',
      data: {
        timestamp: 1586439500000,
        status: 'offline',
        userPresenceChanged: true,
        user: { uid: 'cometchat-uid-4', name: 'Susan Marie', lastActiveAt: 1586439500 },
        currentConnection: {
          action: 'disconnected',
          platform: 'android',
          userAgent: 'CometChat Android SDK',
          connectedAt: 1586435800000,
          appInfo: { version: '4.0.0', platform: 'android' },
        },
      },
    },
  },
};
