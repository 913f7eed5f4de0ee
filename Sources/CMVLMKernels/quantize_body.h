// The vector quantizers of quantize.c, written once over a vector width and included once per
// target (8 lanes with AVX2, 16 with AVX-512, 8 and 16 with arm64 NEON). Not a public header.
//
// The including file defines:
//   LANES      8 or 16
//   TARGET     the function attribute of the instruction set
//   FN(name)   the name with the target's suffix
//
// Every lane repeats the portable Swift reference's (and llama.cpp's) float operations in the same
// order: no reassociation, no FMA (quantize.c turns contraction off), IEEE division and square
// root. That is what keeps the output byte-identical to the references.

typedef float FN(vf) __attribute__((vector_size(LANES * 4)));
typedef int32_t FN(vi) __attribute__((vector_size(LANES * 4)));
#define VF FN(vf)
#define VI FN(vi)

TARGET MVLM_INLINE VF FN(splat)(float v) {
    VF r;
    for (int i = 0; i < LANES; i++) r[i] = v;
    return r;
}

TARGET MVLM_INLINE VI FN(splati)(int32_t v) {
    VI r;
    for (int i = 0; i < LANES; i++) r[i] = v;
    return r;
}

// mask ? a : b, lane-wise (mask lanes all ones or all zeros).
TARGET MVLM_INLINE VF FN(sel)(VI mask, VF a, VF b) {
    return (VF)((mask & (VI)a) | (~mask & (VI)b));
}

TARGET MVLM_INLINE int FN(any)(VI mask) {
    int32_t acc = 0;
    for (int i = 0; i < LANES; i++) acc |= mask[i];
    return acc != 0;
}

TARGET MVLM_INLINE VF FN(abs)(VF v) { return (VF)((VI)v & FN(splati)(0x7FFFFFFF)); }

// ggml's nearest_int: (bits(v + 1.5*2^23) & 0x7fffff) - 0x400000.
TARGET MVLM_INLINE VI FN(nearest)(VF v) {
    VI bits = (VI)(v + FN(splat)(12582912.0f));
    return (bits & FN(splati)(0x007FFFFF)) - FN(splati)(0x00400000);
}

TARGET MVLM_INLINE VI FN(clampi)(VI v, int32_t lo, int32_t hi) {
    VI low = FN(splati)(lo), high = FN(splati)(hi);
    VI below = v < low, above = v > high;
    v = (below & low) | (~below & v);
    return (above & high) | (~above & v);
}

TARGET MVLM_INLINE VF FN(tofloat)(VI v) { return __builtin_convertvector(v, VF); }

// FN(tofloat)(FN(clampi)(FN(nearest)(v), lo, hi)) in four operations instead of seven, for lanes
// with |v| < 2^21: there v + 1.5*2^23 holds 1.5*2^23 + RNE(v) exactly, so clamping its bits as
// integers clamps RNE(v), and subtracting 1.5*2^23 again gives it as a float. (Outside that range
// ggml's nearest_int returns a meaningless integer, which the callers reproduce with the slow form.)
TARGET MVLM_INLINE VF FN(round_clamp)(VF v, int32_t lo, int32_t hi) {
    const float magic = 12582912.0f;
    VI b = (VI)(v + FN(splat)(magic));
    b = __builtin_elementwise_max(b, FN(splati)(0x4B400000 + lo));
    b = __builtin_elementwise_min(b, FN(splati)(0x4B400000 + hi));
    return (VF)b - FN(splat)(magic);
}

// 1 when every lane of v is below bound (false for NaN lanes).
TARGET MVLM_INLINE int FN(all_below)(VF v, float bound) {
    VI below = v < FN(splat)(bound);
    int32_t acc = -1;
    for (int i = 0; i < LANES; i++) acc &= below[i];
    return acc != 0;
}

TARGET MVLM_INLINE VF FN(maxf)(VF a, VF b) { return FN(sel)(b > a, b, a); }

TARGET MVLM_INLINE VF FN(load)(const float *p) {
    VF v;
    memcpy(&v, p, sizeof v);
    return v;
}

// ---- Q4_K ------------------------------------------------------------------------------------

// clamp(nearest_int(iscale * (x - min)), 0, 15) for the 32 elements, as floats: the exact form
// when some lane's |iscale * (x - min)| may reach 2^21 (ggml's nearest_int is meaningless there and
// must be reproduced), the four-operation form otherwise. `bound` is max |x - min| per lane. A flat
// lane (max == min: all x equal min, iscale infinite) gets nearest_int(NaN) = 0 in the exact form,
// which a zero iscale gives in the fast one.
TARGET MVLM_INLINE void FN(q4k_levels)(const VF *xt, VF min, VF iscale, VI flat, VF bound, VF *levels) {
    VF fast_iscale = FN(sel)(flat, FN(splat)(0.0f), iscale);
    if (FN(all_below)(fast_iscale * bound, 2097152.0f)) {
        for (int l = 0; l < 32; l++) levels[l] = FN(round_clamp)(fast_iscale * (xt[l] - min), 0, 15);
    } else {
        for (int l = 0; l < 32; l++) levels[l] = FN(tofloat)(FN(clampi)(FN(nearest)(iscale * (xt[l] - min)), 0, 15));
    }
}

// make_qkx2_quants(32, 15, x, weights, L, &the_min, Laux, -1, 0.1, 20, false) on LANES sub-blocks:
// xt[l] holds element l of every lane's sub-block. Levels go to best; returns the scales, and the
// mins (as the C code's the_min = -min) through the_min.
//
// The C code copies a step's levels into L whenever the step is better; here each lane remembers the
// (iscale, min) that produced its best levels and the levels are recomputed once at the end (they
// are a function of those two alone), which saves 32 blends per improving step.
TARGET static VF FN(q4k_make_quants)(const VF *xt, const VF *w, VF *best, VF *trial, VF *the_min) {
    const float rmin = -1.0f, rdelta = 0.1f;
    const int steps = 20;
    VF zero = FN(splat)(0.0f);
    VF min = xt[0], max = xt[0];
    VF sum_w = w[0];
    VF sum_x = sum_w * xt[0];
    for (int l = 1; l < 32; l++) {
        VF v = xt[l];
        min = FN(sel)(v < min, v, min);
        max = FN(sel)(v > max, v, max);
        sum_w += w[l];
        sum_x += w[l] * v;
    }
    VF data_min = min;
    min = FN(sel)(min > zero, zero, min);
    VI flat = max == min;
    // max |x - min| per lane without a pass over x: rounding is monotonic, so fl(x - min) lies
    // between fl(data_min - min) and fl(max - min).
#define BOUND FN(maxf)(FN(abs)(max - min), FN(abs)(data_min - min))
    VF iscale = FN(splat)(15.0f) / (max - min);
    VF scale = FN(splat)(1.0f) / iscale;
    VF best_error = zero;
    VF best_iscale = iscale, best_min = min;
    FN(q4k_levels)(xt, min, iscale, flat, BOUND, trial);
    for (int l = 0; l < 32; l++) {
        VF q = trial[l];
        VF diff = scale * q + min - xt[l];
        best_error += w[l] * (diff * diff);
    }
    for (int step = 0; step <= steps; step++) {
        float factor = rdelta * (float)step;
        factor = rmin + factor;
        factor = factor + 15.0f;
        iscale = FN(splat)(factor) / (max - min);
        FN(q4k_levels)(xt, min, iscale, flat, BOUND, trial);
        VF sum_l = zero, sum_l2 = zero, sum_xl = zero;
        for (int l = 0; l < 32; l++) {
            VF q = trial[l];
            VF wl = w[l] * q;
            sum_l += wl;
            sum_l2 += wl * q;
            sum_xl += wl * xt[l];
        }
        VF det = sum_w * sum_l2 - sum_l * sum_l;
        VI positive = det > zero;
        if (!FN(any)(positive)) continue;
        VF this_scale = (sum_w * sum_xl - sum_x * sum_l) / det;
        VF this_min = (sum_l2 * sum_x - sum_l * sum_xl) / det;
        VI min_positive = this_min > zero;
        this_min = FN(sel)(min_positive, zero, this_min);
        this_scale = FN(sel)(min_positive, sum_xl / sum_l2, this_scale);
        VF error = zero;
        for (int l = 0; l < 32; l++) {
            VF diff = this_scale * trial[l] + this_min - xt[l];
            error += w[l] * (diff * diff);
        }
        VI better = positive & (error < best_error);
        if (!FN(any)(better)) continue;
        best_iscale = FN(sel)(better, iscale, best_iscale);
        best_min = FN(sel)(better, min, best_min);  // the min these levels were made with
        best_error = FN(sel)(better, error, best_error);
        scale = FN(sel)(better, this_scale, scale);
        min = FN(sel)(better, this_min, min);
    }
    // The best levels again, from the (iscale, min) that made them (the exact form is valid for
    // every lane, the fast one where the bound allows: both give the levels the search saw).
    {
        VF m = best_min;
        VF bound = FN(maxf)(FN(abs)(max - m), FN(abs)(data_min - m));
        FN(q4k_levels)(xt, m, best_iscale, flat, bound, best);
    }
#undef BOUND
    scale = FN(sel)(flat, zero, scale);
    for (int l = 0; l < 32; l++) best[l] = FN(sel)(flat, zero, best[l]);
    *the_min = (VF)((VI)min ^ FN(splati)((int32_t)0x80000000u));  // C's -min, sign of zero kept
    return scale;
}

// LANES / 8 consecutive Q4_K super-blocks (quantize_row_q4_K_ref).
TARGET __attribute__((unused)) static void FN(q4k_blocks)(const float *x, uint8_t *out) {
    enum { SUPER = LANES / 8 };
    VF xt[32], w[32], best[32], trial[32];
    float t[32][LANES];
    for (int lane = 0; lane < LANES; lane++)
        for (int l = 0; l < 32; l++) t[l][lane] = x[lane * 32 + l];
    for (int l = 0; l < 32; l++) memcpy(&xt[l], t[l], sizeof xt[l]);

    VF sum_x2 = FN(splat)(0.0f);
    for (int l = 0; l < 32; l++) sum_x2 += xt[l] * xt[l];
    VF average;
    for (int j = 0; j < LANES; j++) average[j] = sqrtf(sum_x2[j] / 32.0f);
    for (int l = 0; l < 32; l++) w[l] = average + FN(abs)(xt[l]);

    VF the_min;
    VF scale = FN(q4k_make_quants)(xt, w, best, trial, &the_min);

    float dv_lanes[LANES], mv_lanes[LANES];
    for (int s = 0; s < SUPER; s++) {
        uint8_t *o = out + s * 144;
        float max_scale = 0.0f, max_min = 0.0f;
        for (int j = 0; j < 8; j++) {
            float sc = scale[s * 8 + j], mn = the_min[s * 8 + j];
            if (sc > max_scale) max_scale = sc;
            if (mn > max_min) max_min = mn;
        }
        float inv_scale = max_scale > 0 ? 63.0f / max_scale : 0.0f;
        float inv_min = max_min > 0 ? 63.0f / max_min : 0.0f;
        uint8_t ls[8], lm[8];
        for (int j = 0; j < 8; j++) {
            uint8_t a = (uint8_t)mvlm_nearest_int(inv_scale * scale[s * 8 + j]);
            uint8_t b = (uint8_t)mvlm_nearest_int(inv_min * the_min[s * 8 + j]);
            ls[j] = a < 63 ? a : 63;
            lm[j] = b < 63 ? b : 63;
        }
        uint8_t packed[12] = {0};
        for (int j = 0; j < 8; j++) {
            if (j < 4) {
                packed[j] = ls[j];
                packed[j + 4] = lm[j];
            } else {
                packed[j + 4] = (uint8_t)((ls[j] & 0xF) | ((lm[j] & 0xF) << 4));
                packed[j - 4] |= (uint8_t)((ls[j] >> 4) << 6);
                packed[j] |= (uint8_t)((lm[j] >> 4) << 6);
            }
        }
        memcpy(o + 4, packed, 12);
        uint16_t dh = mvlm_f16_bits(max_scale / 63.0f), mh = mvlm_f16_bits(max_min / 63.0f);
        memcpy(o, &dh, 2);
        memcpy(o + 2, &mh, 2);
        float d = mvlm_half_to_float(dh), dmin = mvlm_half_to_float(mh);
        for (int j = 0; j < 8; j++) {
            int sc, m;
            mvlm_scale_min_k4(packed, j, &sc, &m);
            dv_lanes[s * 8 + j] = d * (float)sc;
            mv_lanes[s * 8 + j] = dmin * (float)m;
        }
    }
    VF dv = FN(load)(dv_lanes), mv = FN(load)(mv_lanes);
    VI requantize = ~(dv == FN(splat)(0.0f));
    for (int l = 0; l < 32; l++) {
        VF q = FN(tofloat)(FN(clampi)(FN(nearest)((xt[l] + mv) / dv), 0, 15));
        best[l] = FN(sel)(requantize, q, best[l]);
    }
    for (int l = 0; l < 32; l++) {
        VI q = __builtin_convertvector(best[l], VI);
        for (int s = 0; s < SUPER; s++)
            for (int pair = 0; pair < 4; pair++)
                out[s * 144 + 16 + pair * 32 + l] = (uint8_t)(q[s * 8 + pair * 2] | (q[s * 8 + pair * 2 + 1] << 4));
    }
}

// ---- Q6_K ------------------------------------------------------------------------------------

// make_qx_quants(16, 32, x, L, 1, NULL) on LANES sub-blocks of 16: levels (0...63) go to levels;
// returns the scales.
TARGET static VF FN(q6k_make_quants)(const VF *xt, VF *levels, VF *trial) {
    VF zero = FN(splat)(0.0f);
    VF max = zero, amax = zero;
    for (int i = 0; i < 16; i++) {
        VF ax = FN(abs)(xt[i]);
        VI larger = ax > amax;
        amax = FN(sel)(larger, ax, amax);
        max = FN(sel)(larger, xt[i], max);
    }
    VI is_zero = amax < FN(splat)(1e-15f);
    VF iscale = FN(splat)(-32.0f) / max;
    VF sum_lx = zero, sum_l2 = zero;
    VF w[16];
    for (int i = 0; i < 16; i++) w[i] = xt[i] * xt[i];
    // |iscale * x| <= ~(32.9 / |max|) * |x| <= 33 because |x| <= amax = |max|: the fast rounding is
    // exact on every lane except those whose amax is below 1e-15 (an infinite or huge iscale), and
    // those lanes' levels and scale are zeroed at the end whatever they are.
    for (int i = 0; i < 16; i++) {
        VF l = FN(round_clamp)(iscale * xt[i], -32, 31);
        levels[i] = l + FN(splat)(32.0f);
        sum_lx += w[i] * xt[i] * l;
        sum_l2 += w[i] * l * l;
    }
    VF scale = FN(sel)(sum_l2 == zero, zero, sum_lx / sum_l2);
    VF best = scale * sum_lx;
    for (int step = -9; step <= 9; step++) {
        if (step == 0) continue;
        float factor = 0.1f * (float)step;
        factor = 32.0f + factor;
        iscale = FN(splat)(-factor) / max;
        sum_lx = zero;
        sum_l2 = zero;
        for (int i = 0; i < 16; i++) {
            VF l = FN(round_clamp)(iscale * xt[i], -32, 31);
            trial[i] = l;
            sum_lx += w[i] * xt[i] * l;
            sum_l2 += w[i] * l * l;
        }
        VI better = (sum_l2 > zero) & (sum_lx * sum_lx > best * sum_l2);
        if (!FN(any)(better)) continue;
        for (int i = 0; i < 16; i++) levels[i] = FN(sel)(better, trial[i] + FN(splat)(32.0f), levels[i]);
        scale = FN(sel)(better, sum_lx / sum_l2, scale);
        best = FN(sel)(better, scale * sum_lx, best);
    }
    for (int i = 0; i < 16; i++) levels[i] = FN(sel)(is_zero, zero, levels[i]);
    return FN(sel)(is_zero, zero, scale);
}

// One Q6_K super-block (quantize_row_q6_K_ref): 16 sub-blocks in 16 / LANES passes.
TARGET __attribute__((unused)) static void FN(q6k_block)(const float *x, uint8_t *out) {
    enum { PASSES = 16 / LANES };
    VF xt[PASSES][16], levels[PASSES][16], trial[16];
    float scales[16];
    float t[16][LANES];
    for (int p = 0; p < PASSES; p++) {
        for (int lane = 0; lane < LANES; lane++)
            for (int i = 0; i < 16; i++) t[i][lane] = x[(p * LANES + lane) * 16 + i];
        for (int i = 0; i < 16; i++) memcpy(&xt[p][i], t[i], sizeof xt[p][i]);
        VF s = FN(q6k_make_quants)(xt[p], levels[p], trial);
        for (int lane = 0; lane < LANES; lane++) scales[p * LANES + lane] = s[lane];
    }
    float max_scale = 0.0f, max_abs_scale = 0.0f;
    for (int ib = 0; ib < 16; ib++) {
        float a = fabsf(scales[ib]);
        if (a > max_abs_scale) {
            max_abs_scale = a;
            max_scale = scales[ib];
        }
    }
    if (max_abs_scale < 1e-15f) {
        memset(out, 0, 210);
        return;
    }
    float iscale = -128.0f / max_scale;
    uint16_t dh = mvlm_f16_bits(1.0f / iscale);
    memcpy(out + 208, &dh, 2);
    float d = mvlm_half_to_float(dh);
    float dv_lanes[16];
    for (int ib = 0; ib < 16; ib++) {
        int32_t n = mvlm_nearest_int(iscale * scales[ib]);
        int8_t s = (int8_t)(n < 127 ? n : 127);
        out[192 + ib] = (uint8_t)s;
        dv_lanes[ib] = d * (float)s;
    }
    for (int p = 0; p < PASSES; p++) {
        VF dv = FN(load)(dv_lanes + p * LANES);
        VI requantize = ~(dv == FN(splat)(0.0f));
        for (int i = 0; i < 16; i++) {
            VF l = FN(tofloat)(FN(clampi)(FN(nearest)(xt[p][i] / dv), -32, 31)) + FN(splat)(32.0f);
            levels[p][i] = FN(sel)(requantize, l, levels[p][i]);
        }
    }
    // L[k] for k = 16 * sub + i.
    uint8_t L[256];
    for (int p = 0; p < PASSES; p++)
        for (int i = 0; i < 16; i++) {
            VI q = __builtin_convertvector(levels[p][i], VI);
            for (int lane = 0; lane < LANES; lane++) L[(p * LANES + lane) * 16 + i] = (uint8_t)q[lane];
        }
    for (int j = 0; j < 256; j += 128) {
        uint8_t *ql = out + j / 2, *qh = out + 128 + j / 4;
        for (int l = 0; l < 32; l++) {
            uint8_t l1 = L[j + l], l2 = L[j + l + 32], l3 = L[j + l + 64], l4 = L[j + l + 96];
            ql[l] = (uint8_t)((l1 & 0xF) | ((l3 & 0xF) << 4));
            ql[l + 32] = (uint8_t)((l2 & 0xF) | ((l4 & 0xF) << 4));
            qh[l] = (uint8_t)((l1 >> 4) | ((l2 >> 4) << 2) | ((l3 >> 4) << 4) | ((l4 >> 4) << 6));
        }
    }
}

#undef VF
#undef VI
