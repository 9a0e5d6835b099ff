import { DynamicModule, Global, Module, Provider } from '@nestjs/common';
import { AppConfig } from './app-config';

@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: AppConfig, extra: Provider[] = []): DynamicModule {
    const providers = [{ provide: AppConfig, useValue: config }, ...extra];
    return { module: ConfigModule, providers, exports: providers };
  }
}
