-- The forward-auth decision a hand-built nginx setup would make over
-- Postern's sessions, for scripts/bench to compare Postern's own decision
-- endpoint with: nginx auth_request -> this content handler -> Redis.
--
-- It reads the session cookie, hashes it as Postern does (the Redis key is
-- <prefix>session:<hex SHA-256 of the cookie value>, docs/redis.md), and
-- asks Redis for the session's user and creation time in one HMGET over a
-- pooled cosocket: 200 with X-User when the session exists (Redis expires
-- it at the idle timeout) and is younger than the lifetime, else 401.
-- Debian 12 has no lua-resty-redis: the few lines of RESP are below.
-- Read-only, unlike Postern: it neither slides the idle timeout nor checks
-- the user's state, memberships or the route, so it is a lower bound on
-- the work of a real decision.
--
-- A module, loaded once per worker (the FFI declaration and the tables
-- are made once):
--   lua_package_path "<this folder>/?.lua;;";
--   location = /_auth { internal; set $redis_port ...;
--       content_by_lua_block { require("fwdauth").decide() } }
-- nginx variables: $redis_port (127.0.0.1), $postern_prefix, and
-- $postern_lifetime (seconds).

local ffi = require "ffi"

ffi.cdef [[
unsigned char *SHA256(const unsigned char *d, size_t n, unsigned char *md);
]]

local digest = ffi.new("unsigned char[32]")
local hex = {}
for i = 0, 255 do
	hex[i] = string.format("%02x", i)
end

local function sha256_hex(s)
	ffi.C.SHA256(s, #s, digest)
	local out = {}
	for i = 0, 31 do
		out[i + 1] = hex[digest[i]]
	end
	return table.concat(out)
end

local function bulk(s)
	return "$" .. #s .. "\r\n" .. s .. "\r\n"
end

-- One RESP bulk string (nil for a null one), or nil, err.
local function read_bulk(sock)
	local line, err = sock:receive("*l")
	if not line then
		return nil, err
	end
	local n = tonumber(line:match("^%$(%-?%d+)$"))
	if not n then
		return nil, "unexpected reply " .. line
	end
	if n < 0 then
		return false
	end
	local data
	data, err = sock:receive(n + 2)
	if not data then
		return nil, err
	end
	return data:sub(1, n)
end

local function deny()
	return ngx.exit(ngx.HTTP_UNAUTHORIZED)
end

local function unavailable(err)
	ngx.log(ngx.ERR, "redis: ", err)
	return ngx.exit(ngx.HTTP_SERVICE_UNAVAILABLE)
end

local M = {}

function M.decide()
	local cookie = ";" .. (ngx.var.http_cookie or "")
	local id = cookie:match(";%s*__Host%-postern=([^;]*)")
	if not id or #id ~= 43 or id:find("[^%w_%-]") then
		return deny()
	end

	local key = ngx.var.postern_prefix .. "session:" .. sha256_hex(id)
	local sock = ngx.socket.tcp()
	sock:settimeout(1000)
	local ok, err = sock:connect("127.0.0.1", tonumber(ngx.var.redis_port))
	if not ok then
		return unavailable(err)
	end
	ok, err = sock:send("*4\r\n" .. bulk("HMGET") .. bulk(key) ..
	    bulk("user") .. bulk("created"))
	local head = ok and sock:receive("*l")
	local user, created
	if head == "*2" then
		user, err = read_bulk(sock)
		if user ~= nil then
			created, err = read_bulk(sock)
		end
	end
	if created == nil then
		sock:close()
		return unavailable(err or head or "no reply")
	end
	sock:setkeepalive(60000, 64)
	if not user or not created or tonumber(created) +
	    tonumber(ngx.var.postern_lifetime) <= ngx.time() then
		return deny()
	end
	ngx.header["X-User"] = user
	return ngx.exit(ngx.HTTP_OK)
end

return M
