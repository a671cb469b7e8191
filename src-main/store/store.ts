import { openDatabase, type DB } from './database.js';
import { EventsRepo } from './events-repo.js';
import { PlansRepo } from './plans-repo.js';
import { KeyValueRepo } from './kv-repo.js';
import { HostsRepo } from './hosts-repo.js';

/** All repositories over one database. */
export class Store {
  readonly events: EventsRepo;
  readonly plans: PlansRepo;
  readonly kv: KeyValueRepo;
  readonly hosts: HostsRepo;

  constructor(readonly db: DB) {
    this.events = new EventsRepo(db);
    this.plans = new PlansRepo(db);
    this.kv = new KeyValueRepo(db);
    this.hosts = new HostsRepo(db);
  }

  static open(file: string): Store {
    return new Store(openDatabase(file));
  }

  close(): void {
    this.db.close();
  }
}
