-- A request mix for wrk (tests/bench/soak.py, redis_ceiling.py):
--
--   wrk ... -s mix.lua URL -- FILE DELAY_MS
--
-- FILE has one request a line, "PATH<TAB>Name: value<TAB>...", and each
-- thread sends them in turn (starting at a different line per thread).
-- Each connection waits DELAY_MS after an answer before its next request,
-- so that C connections offer about C * 1000 / (DELAY_MS + latency)
-- requests per second: a bounded load instead of wrk's flat out.

local reqs, n, i, pause = {}, 0, 0, 0

function init(args)
	for line in io.lines(args[1]) do
		local fields = {}
		for f in line:gmatch("[^\t]+") do
			fields[#fields + 1] = f
		end
		local headers = {}
		for k = 2, #fields do
			local name, value = fields[k]:match("^([^:]+):%s*(.*)$")
			headers[name] = value
		end
		n = n + 1
		reqs[n] = wrk.format("GET", fields[1], headers)
	end
	pause = tonumber(args[2] or "0")
	i = (tonumber(tostring(wrk.thread):match("0x(%x+)") or "0", 16) or 0) % n
end

function request()
	i = i % n + 1
	return reqs[i]
end

function delay()
	return pause
end
