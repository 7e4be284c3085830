/*
** The one place the core asks Lua for facts during a compile: each query
** is a method of the facts object (lua/bpf/facts.lua) passed as the
** compile's options, its answer copied into C (facts.h) and kept for the
** compile, a failed query turned into a compile error that says what failed.
** The field names of the answers appear here and in facts.lua only.
*/
#include <stdio.h>
#include <string.h>
#include <lauxlib.h>
#include "core.h"

/* F:query(args) with the nargs arguments on top of the stack: leaves nret
** answers, or ends the compile with "what failed: message" (what a format
** of detail, when detail is given: it is only formatted on failure). */
static void ask_about(struct ctx *C, const char *query, int nargs, int nret, const char *what,
		      const char *detail)
{
	lua_State *L = C->L;
	int want = nret < 2 ? 2 : nret; /* room for nil, message */
	lua_getfield(L, C->opts, query);
	lua_pushvalue(L, C->opts);
	lua_insert(L, -2 - nargs);
	lua_insert(L, -2 - nargs); /* F.query, F, args... */
	if (lua_pcall(L, nargs + 1, want, 0)) {
		const char *msg = lua_tostring(L, -1);
		bpfc_fail(C, "internal: the facts query %s raised: %s", query, msg ? msg : "?");
	}
	if (lua_isnil(L, -want)) {
		const char *msg = lua_tostring(L, -want + 1);
		char buf[160];
		if (detail) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
			snprintf(buf, sizeof(buf), what, detail);
#pragma GCC diagnostic pop
			what = buf;
		}
		bpfc_fail(C, "%s failed: %s", what, msg ? msg : "no answer");
	}
	lua_pop(L, want - nret);
}

static void ask(struct ctx *C, const char *query, int nargs, int nret, const char *what)
{
	ask_about(C, query, nargs, nret, what, NULL);
}

/* Fields of the answer table at the top of the stack. */
static bool has(lua_State *L, const char *name)
{
	lua_getfield(L, -1, name);
	bool yes = lua_toboolean(L, -1);
	lua_pop(L, 1);
	return yes;
}

static bool num_field(lua_State *L, const char *name, int64_t *out)
{
	lua_getfield(L, -1, name);
	bool ok = lua_type(L, -1) == LUA_TNUMBER;
	if (ok)
		*out = (int64_t)lua_tonumber(L, -1);
	lua_pop(L, 1);
	return ok;
}

static int int_field(lua_State *L, const char *name, int dflt)
{
	int64_t n;
	return num_field(L, name, &n) ? (int)n : dflt;
}

/* A string field (the answer holds it, so it lives as long as the answer). */
static const char *str_field(lua_State *L, const char *name)
{
	lua_getfield(L, -1, name);
	const char *s = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
	lua_pop(L, 1);
	return s;
}

/* A field that is a Lua value (a ctype) as an anchor ref; 0 when false or nil. */
static int ref_field(struct ctx *C, const char *name)
{
	lua_getfield(C->L, -1, name);
	int r = lua_toboolean(C->L, -1) ? k_ref(C, -1) : 0;
	lua_pop(C->L, 1);
	return r;
}

/* What to key a cache with: the value's identity, NULL when it has none. */
static const void *identity(struct ctx *C, int ref)
{
	k_push(C, ref);
	const void *p = lua_topointer(C->L, -1);
	lua_pop(C->L, 1);
	return p;
}

/* ---- before translation ---- */

static void read_layers(struct ctx *C)
{
	lua_State *L = C->L;
	struct facts *F = &C->facts;
	const char *to[MAX_STEPS];
	ask(C, "layers", 0, 1, "reading the dissector layers (bpf.proto.layers)");
	for (int i = 1; i <= F->nlayers; i++)
		F->layer[i].ctype = 0; /* anchored again when this compile asks */
	if (F->layers_list) { /* the same list as last time: what we read holds */
		lua_rawgeti(L, LUA_REGISTRYINDEX, F->layers_list);
		bool same = lua_rawequal(L, -1, -2);
		lua_pop(L, 1);
		if (same) {
			lua_pop(L, 1);
			return;
		}
		luaL_unref(L, LUA_REGISTRYINDEX, F->layers_list);
		F->layers_list = 0;
	}
	F->nlayers = F->nsteps = 0;
	for (int i = 1;; i++) {
		lua_rawgeti(L, -1, i);
		if (!lua_istable(L, -1)) {
			lua_pop(L, 1);
			break;
		}
		if (F->nlayers >= MAX_LAYERS)
			bpfc_fail(C, "more than %d dissector layers", MAX_LAYERS);
		struct layer *l = &F->layer[++F->nlayers];
		l->name = str_field(L, "name");
		l->has_ctype = has(L, "ctype");
		l->ctype = 0;
		l->step = F->nsteps;
		lua_getfield(L, -1, "next");
		for (int k = 1; lua_istable(L, -1); k++) {
			lua_rawgeti(L, -1, k);
			if (!lua_istable(L, -1)) {
				lua_pop(L, 1);
				break;
			}
			if (F->nsteps >= MAX_STEPS)
				bpfc_fail(C, "more than %d steps between dissector layers", MAX_STEPS);
			struct layer_step *s = &F->step[F->nsteps];
			to[F->nsteps++] = str_field(L, "to");
			s->name = str_field(L, "name");
			s->fixed = num_field(L, "skip", &s->skip);
			s->hdr_off = int_field(L, "hdr_off", 0);
			s->mask = int_field(L, "mask", 0);
			s->shift = int_field(L, "shift", 0);
			s->ctype = 0;
			lua_pop(L, 1);
		}
		lua_pop(L, 2);
		l->nsteps = F->nsteps - l->step;
	}
	for (int i = 0; i < F->nsteps; i++)
		F->step[i].to = to[i] ? fact_layer(C, to[i]) : 0;
	F->layers_list = luaL_ref(L, LUA_REGISTRYINDEX); /* keeps the names alive */
}

/* A layer's ctype as a ref of this compile's constants, 0 none. */
static int layer_ctype(struct ctx *C, int layer)
{
	struct layer *l = &C->facts.layer[layer];
	if (!l->has_ctype)
		return 0;
	if (!l->ctype) {
		lua_State *L = C->L;
		lua_rawgeti(L, LUA_REGISTRYINDEX, C->facts.layers_list);
		lua_rawgeti(L, -1, layer);
		l->ctype = ref_field(C, "ctype");
		lua_pop(L, 2);
	}
	return l->ctype;
}

void fact_begin(struct ctx *C)
{
	lua_State *L = C->L;
	struct facts *F = &C->facts;
	F->nk = 0; /* ctypes and members are kept (see struct ctfact) */
	ask(C, "program", 0, 1, "reading the program's context and type");
	k_ref(C, -1); /* keeps the type's name alive */
	F->ctx_ctype = ref_field(C, "ctx_ctype");
	F->ctx_name = str_field(L, "ctx_name");
	F->attach = int_field(L, "attach", -1);
	lua_getfield(L, -1, "type");
	F->type_kind = lua_type(L, -1);
	F->type_name = F->type_kind == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
	F->type_num = F->type_kind == LUA_TNUMBER ? (int64_t)lua_tointeger(L, -1) : 0;
	lua_pop(L, 1);
	F->may_goto = has(L, "may_goto");
	F->bpf_loop = has(L, "bpf_loop");
	F->classic_packet = has(L, "classic_packet");
	F->linear_packet = has(L, "linear_packet");
	F->no_csum = has(L, "no_csum");
	F->user_memory = has(L, "user_memory");
	F->ctx_memory = has(L, "ctx_memory");
	lua_getfield(L, -1, "functions");
	const char *fns = lua_tostring(L, -1);
	C->force_subs = fns && !strcmp(fns, "subprog");
	C->no_subs = fns && !strcmp(fns, "inline");
	lua_pop(L, 2);
	read_layers(C);
}

int fact_layer(struct ctx *C, const char *name)
{
	for (int i = 1; i <= C->facts.nlayers; i++)
		if (C->facts.layer[i].name && !strcmp(C->facts.layer[i].name, name))
			return i;
	return 0;
}

bool fact_layer_next(struct ctx *C, int layer, const char *name, struct layer_step *out)
{
	if (layer <= 0 || layer > C->facts.nlayers)
		return false;
	const struct layer *l = &C->facts.layer[layer];
	for (int i = l->step; i < l->step + l->nsteps; i++) {
		const struct layer_step *s = &C->facts.step[i];
		if (s->name && !strcmp(s->name, name)) {
			*out = *s;
			int ct = s->to ? layer_ctype(C, s->to) : 0;
			out->ctype = ct ? k_dup(C, ct) : 0;
			return true;
		}
	}
	return false;
}

/* ---- constants, when they first appear ---- */

static void read_constant(struct ctx *C, struct kfact *k)
{
	lua_State *L = C->L;
	k->kind = KF_PLAIN;
	if (!lua_istable(L, -1))
		return;
	const char *kind = str_field(L, "kind");
	if (!kind)
		return;
	if (!strcmp(kind, "helper")) {
		k->kind = KF_HELPER;
		k->helper = str_field(L, "name");
	} else if (!strcmp(kind, "dissector")) {
		k->kind = KF_DISSECTOR;
		lua_getfield(L, -1, "ctype");
		k->ctype = k_ref(C, -1); /* whatever it holds: the members say what it is */
		lua_pop(L, 1);
		const char *layer = str_field(L, "layer");
		k->layer = layer ? fact_layer(C, layer) : 0;
		k->has_off = num_field(L, "off", &k->off);
		k->context = has(L, "context");
	} else if (!strcmp(kind, "map")) {
		struct mapfacts *m = &k->map;
		int64_t n;
		k->kind = KF_MAP;
		m->has_key_size = num_field(L, "key_size", &n);
		m->key_size = (int)n;
		m->has_val_size = num_field(L, "val_size", &n);
		m->val_size = (int)n;
		m->val_type = ref_field(C, "val_type");
	}
}

const struct kfact *fact_value(struct ctx *C, int ref)
{
	lua_State *L = C->L;
	struct facts *F = &C->facts;
	k_push(C, ref);
	int t = lua_type(L, -1);
	const void *p = lua_topointer(L, -1);
	lua_pop(L, 1);
	if (t != LUA_TTABLE && t != LUA_TFUNCTION)
		return NULL;
	for (int i = 0; i < F->nk; i++)
		if (F->k[i].p == p)
			return F->k[i].kind == KF_PLAIN ? NULL : &F->k[i];
	struct kfact *k = F->nk < MAX_KFACTS ? &F->k[F->nk] : &F->kspare;
	memset(k, 0, sizeof(*k));
	k_push(C, ref);
	ask(C, "constant", 1, 1, "reading a Lua value the program uses (a map, a dissector, a helper?)");
	k_ref(C, -1); /* keeps the helper's name alive */
	read_constant(C, k);
	lua_pop(L, 1);
	k->p = p;
	if (k != &F->kspare)
		F->nk++;
	return k->kind == KF_PLAIN ? NULL : k;
}

const struct mapfacts *fact_map(struct ctx *C, int ref)
{
	const struct kfact *k = fact_value(C, ref);
	return k && k->kind == KF_MAP ? &k->map : NULL;
}

const char *fact_helper(struct ctx *C, int ref)
{
	const struct kfact *k = fact_value(C, ref);
	return k && k->kind == KF_HELPER ? k->helper : NULL;
}

/* Each use of a fact gets a ref of its own, as each query gave before: joins
** tell constants apart by ref (var.c, same_const), and compare the types
** pointers point to with fact_same_type, never by ref. */
int fact_val_type(struct ctx *C, const struct mapfacts *m)
{
	return m->val_type ? k_dup(C, m->val_type) : 0;
}

/* A cdata at stack index idx: integers become numbers. */
bool fact_integer(struct ctx *C, int idx, int64_t *out, bool *isu64)
{
	lua_State *L = C->L;
	lua_pushvalue(L, idx);
	ask(C, "integer", 1, 2, "reading a cdata constant");
	bool ok = false;
	*isu64 = lua_toboolean(L, -1);
	if (lua_type(L, -2) == 10) { /* a boxed int64: its 8 bytes are the payload */
		const int64_t *p = lua_topointer(L, -2);
		if (p) {
			*out = *p;
			ok = true;
		}
	} else if (lua_type(L, -2) == LUA_TNUMBER) {
		double n = lua_tonumber(L, -2);
		if (n >= -9.2e18 && n <= 9.2e18) {
			*out = (int64_t)n;
			ok = true;
		}
	}
	lua_pop(L, 2);
	return ok;
}

/* ---- ctypes, when first asked ---- */

enum { CT_SIZE = 1, CT_SCALAR = 2, CT_ELEM = 4, CT_ID = 8 };

/* Keep the value on top of the stack alive for as long as the ctype
** caches hold it; returns its index in the anchors table (popped). */
static int anchor(struct ctx *C)
{
	lua_State *L = C->L;
	struct facts *F = &C->facts;
	if (!F->anchors) {
		lua_newtable(L);
		F->anchors = luaL_ref(L, LUA_REGISTRYINDEX);
		F->nanchors = 0;
	}
	lua_rawgeti(L, LUA_REGISTRYINDEX, F->anchors);
	lua_insert(L, -2);
	lua_rawseti(L, -2, ++F->nanchors);
	lua_pop(L, 1);
	return F->nanchors;
}

/* An anchored value as a ref of this compile's constants. */
static int anchored_ref(struct ctx *C, int a)
{
	lua_rawgeti(C->L, LUA_REGISTRYINDEX, C->facts.anchors);
	lua_rawgeti(C->L, -1, a);
	int r = k_ref(C, -1);
	lua_pop(C->L, 2);
	return r;
}

/* Room for one more ctype or member: when a cache is full, both start
** over with a new anchors table (the old ctypes may then be collected). */
static void make_room(struct ctx *C, bool member)
{
	struct facts *F = &C->facts;
	if ((member ? F->nmember < MAX_MEMBERS : F->nct < MAX_CTFACTS) &&
	    F->nanchors < 4 * (MAX_CTFACTS + MAX_MEMBERS))
		return;
	F->nct = F->nmember = 0;
	if (F->anchors)
		luaL_unref(C->L, LUA_REGISTRYINDEX, F->anchors);
	F->anchors = 0;
}

static struct ctfact *ctfact(struct ctx *C, int ctype, struct ctfact *spare)
{
	struct facts *F = &C->facts;
	const void *p = identity(C, ctype);
	if (p)
		for (int i = 0; i < F->nct; i++)
			if (F->ct[i].p == p)
				return &F->ct[i];
	struct ctfact *f = spare;
	if (p) {
		make_room(C, false);
		f = &F->ct[F->nct++];
		k_push(C, ctype);
		anchor(C);
	}
	memset(f, 0, sizeof(*f));
	f->p = p;
	return f;
}

bool fact_member(struct ctx *C, int ctype, const char *name, struct cfield *f)
{
	lua_State *L = C->L;
	struct facts *F = &C->facts;
	const void *p = identity(C, ctype);
	struct memberfact spare, *m = NULL;
	bool keep = p && strlen(name) < MAX_MEMBER_NAME;
	if (keep)
		for (int i = 0; i < F->nmember && !m; i++)
			if (F->member[i].ct == p && !strcmp(F->member[i].name, name))
				m = &F->member[i];
	if (!m) {
		k_push(C, ctype);
		lua_pushstring(L, name);
		ask_about(C, "member", 2, 1, "looking up the member '%.40s' of a C type", name);
		if (keep) {
			make_room(C, true);
			m = &F->member[F->nmember++];
			k_push(C, ctype);
			anchor(C);
		} else {
			m = &spare;
		}
		memset(m, 0, sizeof(*m));
		m->ct = p;
		if (keep)
			strcpy(m->name, name);
		m->found = lua_istable(L, -1);
		if (m->found) {
			struct cfield *c = &m->f;
			c->off = int_field(L, "offset", 0);
			c->size = int_field(L, "size", 0);
			c->bpos = int_field(L, "bpos", -1);
			c->bsize = int_field(L, "bsize", -1);
			c->isptr = has(L, "pointer");
			c->issigned = has(L, "signed");
			c->isfloat = has(L, "float");
			c->isagg = has(L, "aggregate");
			c->isuser = has(L, "user");
			c->isdataloc = has(L, "data_loc");
			c->kernel = has(L, "kernel");
			c->btfptr = has(L, "btf_pointer");
			c->ctxarg = has(L, "context_arg");
			c->core = int_field(L, "core", 0);
			lua_getfield(L, -1, "ctype");
			if (lua_toboolean(L, -1))
				c->ctype = anchor(C);
			else
				lua_pop(L, 1);
		}
		lua_pop(L, 1);
	}
	if (!m->found)
		return false;
	*f = m->f;
	f->ctype = f->ctype ? anchored_ref(C, f->ctype) : 0;
	return true;
}

int fact_sizeof(struct ctx *C, int ctype)
{
	struct ctfact spare, *t = ctfact(C, ctype, &spare);
	if (!(t->asked & CT_SIZE)) {
		k_push(C, ctype);
		ask(C, "sizeof", 1, 1, "the size of a C type");
		t->size = lua_type(C->L, -1) == LUA_TNUMBER ? (int)lua_tointeger(C->L, -1) : -1;
		lua_pop(C->L, 1);
		t->asked |= CT_SIZE;
	}
	return t->size;
}

bool fact_scalar(struct ctx *C, int ctype, int *size, bool *issigned)
{
	struct ctfact spare, *t = ctfact(C, ctype, &spare);
	if (!(t->asked & CT_SCALAR)) {
		k_push(C, ctype);
		ask(C, "scalar", 1, 2, "reading a C type");
		t->scalar = lua_type(C->L, -2) == LUA_TNUMBER;
		t->scalar_size = t->scalar ? (int)lua_tointeger(C->L, -2) : 0;
		t->issigned = lua_toboolean(C->L, -1);
		lua_pop(C->L, 2);
		t->asked |= CT_SCALAR;
	}
	if (t->scalar) {
		*size = t->scalar_size;
		*issigned = t->issigned;
	}
	return t->scalar;
}

int fact_elem(struct ctx *C, int ctype, int *esize)
{
	struct ctfact spare, *t = ctfact(C, ctype, &spare);
	if (!(t->asked & CT_ELEM)) {
		k_push(C, ctype);
		ask(C, "elem", 1, 3, "reading a C type");
		t->elem_ptr = lua_toboolean(C->L, -1);
		t->esize = lua_type(C->L, -2) == LUA_TNUMBER ? (int)lua_tointeger(C->L, -2) : 0;
		lua_pop(C->L, 2);
		if (lua_toboolean(C->L, -1))
			t->elem = anchor(C);
		else
			lua_pop(C->L, 1);
		t->asked |= CT_ELEM;
	}
	*esize = t->esize;
	return t->elem ? anchored_ref(C, t->elem) : 0;
}

bool fact_is_pointer(struct ctx *C, int ctype)
{
	int esize;
	if (!fact_elem(C, ctype, &esize))
		return false;
	struct ctfact spare, *t = ctfact(C, ctype, &spare);
	return t->elem_ptr;
}

/* The C type's id (F:typeid), 0 when the value is no ctype. */
static int type_id(struct ctx *C, int ctype)
{
	struct ctfact spare, *t = ctfact(C, ctype, &spare);
	if (!(t->asked & CT_ID)) {
		k_push(C, ctype);
		ask(C, "typeid", 1, 1, "reading a C type");
		t->id = lua_type(C->L, -1) == LUA_TNUMBER ? (int)lua_tointeger(C->L, -1) : 0;
		lua_pop(C->L, 1);
		t->asked |= CT_ID;
	}
	return t->id;
}

bool fact_same_type(struct ctx *C, int a, int b)
{
	if (!a || !b)
		return a == b;
	if (k_same(C, a, b))
		return true;
	int ia = type_id(C, a);
	return ia && ia == type_id(C, b);
}

/* The ctype a type argument names (ffi.new, ffi.cast, ringbuf_reserve), as a ref. */
int fact_typeof(struct ctx *C, int tref, bool has_n, int64_t n, const char *who)
{
	k_push(C, tref);
	if (has_n)
		lua_pushnumber(C->L, (lua_Number)n);
	ask(C, "typeof", has_n ? 2 : 1, 1, who);
	int ct = k_ref(C, -1);
	lua_pop(C->L, 1);
	return ct;
}

/* ---- compile-time evaluation ---- */

int64_t fact_length(struct ctx *C, int ref)
{
	k_push(C, ref);
	ask(C, "length", 1, 1, "'#' of a Lua value");
	int64_t n = (int64_t)lua_tonumber(C->L, -1);
	lua_pop(C->L, 1);
	return n;
}

void fact_index(struct ctx *C, const char *what)
{
	ask(C, "index", 2, 2, what);
	lua_remove(C->L, -2); /* the true before the value */
}

void fact_call(struct ctx *C, int nargs, int nres)
{
	ask(C, "call", 1 + nargs, 1 + nres, "calling a Lua function at compile time");
	lua_remove(C->L, -1 - nres);
}

void fact_steps(struct ctx *C)
{
	ask(C, "steps", 4, 1, "running the 'for ... in' loop at compile time");
}

double fact_log(struct ctx *C, double x)
{
	lua_pushnumber(C->L, (lua_Number)x);
	ask(C, "log", 1, 1, "math.log");
	double r = lua_tonumber(C->L, -1);
	lua_pop(C->L, 1);
	return r;
}

/* ---- kernel types (lua/bpf/btf.lua) ---- */

int fact_kernel_type(struct ctx *C, const char *name)
{
	lua_pushstring(C->L, name);
	ask_about(C, "kernel_type", 1, 1, "the kernel type '%.60s'", name);
	int ct = k_ref(C, -1);
	lua_pop(C->L, 1);
	return ct;
}

bool fact_kfunc(struct ctx *C, const char *name, struct kfuncfact *k)
{
	lua_State *L = C->L;
	lua_pushstring(L, name);
	ask_about(C, "kfunc", 1, 1, "looking up the kernel function '%.60s'", name);
	if (!lua_istable(L, -1)) {
		lua_pop(L, 1);
		return false;
	}
	memset(k, 0, sizeof(*k));
	k->id = int_field(L, "id", 0);
	k->nargs = int_field(L, "nargs", 0);
	const char *ret = str_field(L, "ret");
	k->ret = ret ? ret[0] : 'v';
	k->ret_size = int_field(L, "ret_size", 8);
	k->ret_signed = has(L, "ret_signed");
	k->ret_ctype = ref_field(C, "ret_ctype");
	lua_getfield(L, -1, "args");
	for (int i = 0; i < k->nargs && i < 16 && lua_istable(L, -1); i++) {
		lua_rawgeti(L, -1, i + 1);
		const char *s = lua_tostring(L, -1);
		if (s && s[0] == 'p')
			k->ptrargs |= 1u << i;
		lua_pop(L, 1);
	}
	lua_pop(L, 2);
	return true;
}
