import { IsDate, IsOptional, IsString, Length } from 'class-validator';
import { AppScopedQueryDto, PageQueryDto, ToDate } from '../common/query-params';

export class UserParamsDto {
  @IsString() @Length(1, 255) uid: string;
}

/** `GET /users/:uid/presence?appId` */
export class PresenceQueryDto extends AppScopedQueryDto {}

/**
 * `GET /users/:uid/sessions?from&to&limit&cursor&appId`. Lists the sessions that overlap the
 * closed range [from, to] (either bound may be omitted), newest connection first.
 */
export class SessionsQueryDto extends PageQueryDto {
  @IsOptional()
  @ToDate()
  @IsDate({ message: 'from must be an ISO-8601 time or a Unix time' })
  from?: Date;
  @IsOptional()
  @ToDate()
  @IsDate({ message: 'to must be an ISO-8601 time or a Unix time' })
  to?: Date;
}

/** `GET /presence/online?appId&limit&cursor`: without appId, every app's online users. */
export class OnlineQueryDto extends PageQueryDto {}

export interface OpenSessionDto {
  /** Legacy session_id, or `connectedAt:platform` for the current format. */
  sessionId: string;
  deviceId: string | null;
  platform: string | null;
  connectedAt: string | null;
}

export interface PresenceDto {
  uid: string;
  appId: string;
  status: 'online' | 'offline';
  /** When the status last changed: the first event after the latest one with the other status. */
  since: string;
  /** The latest event time of the user's connection events. */
  lastSeenAt: string | null;
  /** The current format's `user.lastActiveAt`; null for legacy-only users. */
  lastActiveAt: string | null;
  /** Open sessions only, oldest first. */
  sessions: OpenSessionDto[];
}

export interface SessionDto extends OpenSessionDto {
  /** null while the session is open. */
  disconnectedAt: string | null;
  /** null while open or when the connect time is unknown. */
  durationMs: number | null;
  /** 'event' (its disconnect arrived), 'inferred' (a later event showed it gone), null when open. */
  closedBy: 'event' | 'inferred' | null;
}

export interface SessionsPageDto {
  items: SessionDto[];
  /**
   * Time the user was online within [from, to], over every session in the range (not just this
   * page). It is the length of the union of the sessions' intervals, each clipped to the range, so
   * two devices online at the same time count once: it answers "how long was this user online",
   * not "how much device time". Open sessions count until min(to, now).
   */
  totalOnlineMs: number;
  nextCursor: string | null;
}

export interface OnlineUserDto {
  uid: string;
  appId: string;
  since: string;
  sessions: OpenSessionDto[];
}

export interface OnlinePageDto {
  /** Users online now, over every page. */
  count: number;
  /** Ordered by appId, then uid. */
  items: OnlineUserDto[];
  nextCursor: string | null;
}
