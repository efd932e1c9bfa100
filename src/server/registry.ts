// A plain name -> Destination map: what the server looks destinations up in. Instances are added
// and removed as the process starts and stops them.
import type { Destination, DestinationRegistry } from '../instance/destination.ts';

export class MapRegistry implements DestinationRegistry {
  private readonly byName = new Map<string, Destination>();

  constructor(destinations: Iterable<Destination> = []) {
    for (const d of destinations) this.add(d);
  }

  add(d: Destination): void {
    if (this.byName.has(d.name)) throw new Error(`destination ${d.name} is already registered`);
    this.byName.set(d.name, d);
  }

  remove(name: string): boolean {
    return this.byName.delete(name);
  }

  get(name: string): Destination | undefined {
    return this.byName.get(name);
  }

  names(): string[] {
    return [...this.byName.keys()].sort();
  }
}
