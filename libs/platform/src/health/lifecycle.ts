import { Injectable } from '@nestjs/common';

/** Process lifecycle as the probes see it: started once bootstrap finished, draining once SIGTERM arrived. */
@Injectable()
export class Lifecycle {
  private startedAt?: Date;
  private drainingSince?: Date;

  markStarted(): void {
    this.startedAt ??= new Date();
  }

  markDraining(): void {
    this.drainingSince ??= new Date();
  }

  get started(): boolean {
    return this.startedAt !== undefined;
  }

  get draining(): boolean {
    return this.drainingSince !== undefined;
  }
}
