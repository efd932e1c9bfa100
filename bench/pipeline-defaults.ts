// The store settings an instance gets when its config says nothing: the bench measures sluice as
// a user would run it, so it takes them from the config schema rather than choosing its own.
import { instanceFileSchema } from '../src/config/schema.ts';
import type { EventStoreOptions } from '../src/store/event-store.ts';

export const STORE_DEFAULTS: EventStoreOptions = instanceFileSchema.shape.store.parse(undefined);
