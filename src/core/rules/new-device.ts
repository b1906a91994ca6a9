import { finding, type Rule } from "./types.ts";

export const newDevice: Rule = {
  id: "new_device",
  severity: "high",
  quietWhileLearning: true,
  evaluate(ctx) {
    const device = ctx.event.deviceId;
    if (!device || ctx.baseline.total("device") === 0 || ctx.baseline.has("device", device)) return [];
    return [
      finding(
        this,
        ctx,
        device,
        {
          device_id: device,
          profile: ctx.event.profile,
          known_devices: ctx.baseline.entries("device").size,
        },
        { about: [["device", device]] },
      ),
    ];
  },
};
