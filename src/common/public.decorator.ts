import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = 'isPublic';
/** Routes that do not need the API key: the webhook (Basic auth of its own), health, docs. */
export const Public = () => SetMetadata(IS_PUBLIC, true);
