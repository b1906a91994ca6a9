import { describe, expect, it } from "vitest";
import { client } from "../support/api.ts";
import { newWorkspace, uid } from "../support/factories.ts";
import { useTestApp } from "../support/harness.ts";

const t = useTestApp();

describe("tokens", () => {
  it("refuses to revoke a workspace's last admin token, and allows it once another exists", async () => {
    const api = client(t.app);
    const ws = await newWorkspace(t.database);
    const mine = (await api.get("/v1/whoami", ws.admin)).body.token_id;
    const refused = await api.del(`/v1/tokens/${mine}`, ws.admin);
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe("conflict");
    expect((await api.get("/v1/whoami", ws.admin)).status).toBe(200);

    const second = await api.post("/v1/tokens", ws.admin, { name: uid("admin-"), role: "admin" });
    expect(second.status).toBe(201);
    expect((await api.del(`/v1/tokens/${mine}`, ws.admin)).status).toBe(200);
    expect((await api.get("/v1/whoami", ws.admin)).status).toBe(401);
    expect((await api.get("/v1/whoami", second.body.token)).body.role).toBe("admin");
  });

  it("shows a token's secret once, and never in the list", async () => {
    const api = client(t.app);
    const ws = await newWorkspace(t.database);
    const issued = await api.post("/v1/tokens", ws.admin, { name: uid("viewer-"), role: "viewer" });
    expect(issued.body.token).toMatch(/^ttu_/);
    const listed = await api.get("/v1/tokens", ws.admin);
    expect(JSON.stringify(listed.body)).not.toContain(issued.body.token);
    expect(listed.body.tokens.find((x: { id: string }) => x.id === issued.body.id)).toMatchObject({
      prefix: issued.body.token.slice(0, 8),
      role: "viewer",
    });
  });
});
