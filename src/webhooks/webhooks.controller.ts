import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBasicAuth,
  ApiBody,
  ApiOkResponse,
  ApiOperation,
  ApiPayloadTooLargeResponse,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { ApiErrorDto, WEBHOOK_AUTH } from '../common/openapi';
import { Public } from '../common/public.decorator';
import { ReceivedContentType } from './webhook-edge';
import { WebhookAnswer, WebhooksService } from './webhooks.service';
import {
  COMETCHAT_EVENT_EXAMPLES,
  COMETCHAT_EVENT_SCHEMA,
  WebhookAckDto,
  WebhookRejectedDto,
} from './webhooks.dto';

@ApiTags('webhooks')
@Controller('webhooks')
@Public()
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Post('cometchat')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Receive one CometChat webhook event, in either of its formats',
    description:
      'Answered 200 only once the event is committed. Times may be numbers or numeric strings, ' +
      'in seconds or milliseconds; ids strings or numbers; any letter case of `Content-Type`.',
  })
  @ApiBasicAuth(WEBHOOK_AUTH)
  @ApiBody({ schema: COMETCHAT_EVENT_SCHEMA, examples: COMETCHAT_EVENT_EXAMPLES })
  @ApiOkResponse({
    type: WebhookAckDto,
    description:
      'Committed (or a redelivery: `duplicate: true`, nothing changed). Exactly `{}` for ' +
      'before_message, as CometChat copies the answer into the message metadata.',
  })
  @ApiBadRequestResponse({
    type: WebhookRejectedDto,
    description:
      'Not JSON, no trigger or appId, a field missing, of the wrong type or over 255 characters, ' +
      'or a value PostgreSQL refuses; kept',
  })
  @ApiUnauthorizedResponse({
    type: ApiErrorDto,
    description: 'WEBHOOK_USERNAME/WEBHOOK_PASSWORD are set and the Basic auth is missing or wrong',
  })
  @ApiPayloadTooLargeResponse({ type: ApiErrorDto, description: 'Over BODY_LIMIT_BYTES' })
  @ApiServiceUnavailableResponse({
    type: ApiErrorDto,
    description:
      'A database failure the event did not cause (unreachable, disk full, permissions, a missing ' +
      'function, timeout, read-only…) or the ingest queue full (`Retry-After: 5`); nothing is ' +
      'kept as rejected and CometChat retries',
  })
  receive(
    @Body() body: Buffer | undefined,
    @ReceivedContentType() contentType?: string,
  ): Promise<WebhookAnswer> {
    return this.webhooks.receive(body ?? Buffer.alloc(0), contentType);
  }
}
