/* CVSS v4.0 MacroVector scores: data, not code.
 *
 * The 270 scores of the CVSS v4.0 MacroVectors, which the specification
 * (FIRST, "Common Vulnerability Scoring System version 4.0: Specification
 * Document", section 8) defines by this published list. Transcribed from
 * FIRST's reference calculator, github.com/FIRSTdotorg/cvss-v4-calculator,
 * file cvss_lookup.js at commit c5b0d409ae9f57c44264c6ce5f27d89298e1d32a
 * (last changed in 01c742102db991909be4a88b2a07765d656978ac), whose notice
 * is: "Copyright FIRST, Red Hat, and contributors", licence BSD-2-Clause
 * (Copyright (c) 2023 FIRST.ORG, Inc., Red Hat, and contributors).
 * Only the figures are taken; the layout is bosun's.
 *
 * Scores are in tenths (93 = 9.3). The index is the MacroVector
 * EQ1 EQ2 EQ3 EQ4 EQ5 EQ6, with EQ1, EQ3, EQ4, EQ5 in 0..2 and EQ2, EQ6
 * in 0..1: ((((eq1 * 2 + eq2) * 3 + eq3) * 3 + eq4) * 3 + eq5) * 2 + eq6.
 * NO marks the 54 combinations that do not exist (EQ3 2 with EQ6 0). */
#ifndef BOSUN_SCAN_CVSS4_TABLE_H
#define BOSUN_SCAN_CVSS4_TABLE_H

#define CVSS4_NO_MACRO 255
#define NO CVSS4_NO_MACRO

/* each row: EQ1 EQ2 EQ3 EQ4, then EQ5 EQ6 = 00 01 10 11 20 21 */
static const unsigned char cvss4_macro_tenths[324] = {
	/* 0000.. */ 100, 99, 98, 95, 95, 92,
	/* 0001.. */ 100, 96, 93, 87, 91, 81,
	/* 0002.. */ 93, 90, 89, 80, 81, 68,
	/* 0010.. */ 98, 95, 95, 92, 90, 84,
	/* 0011.. */ 93, 92, 89, 81, 81, 65,
	/* 0012.. */ 88, 80, 78, 70, 69, 48,
	/* 0020.. */ NO, 92, NO, 82, NO, 72,
	/* 0021.. */ NO, 79, NO, 69, NO, 50,
	/* 0022.. */ NO, 69, NO, 55, NO, 27,
	/* 0100.. */ 99, 97, 95, 92, 92, 85,
	/* 0101.. */ 95, 91, 90, 83, 84, 71,
	/* 0102.. */ 92, 81, 82, 71, 72, 53,
	/* 0110.. */ 95, 93, 92, 85, 85, 73,
	/* 0111.. */ 92, 82, 80, 72, 70, 59,
	/* 0112.. */ 84, 70, 71, 52, 50, 30,
	/* 0120.. */ NO, 86, NO, 75, NO, 52,
	/* 0121.. */ NO, 71, NO, 52, NO, 29,
	/* 0122.. */ NO, 63, NO, 29, NO, 17,
	/* 1000.. */ 98, 95, 94, 87, 91, 81,
	/* 1001.. */ 94, 89, 86, 74, 77, 64,
	/* 1002.. */ 87, 75, 74, 63, 63, 49,
	/* 1010.. */ 94, 89, 88, 77, 76, 67,
	/* 1011.. */ 86, 76, 74, 58, 59, 50,
	/* 1012.. */ 72, 57, 57, 52, 52, 25,
	/* 1020.. */ NO, 83, NO, 70, NO, 54,
	/* 1021.. */ NO, 65, NO, 58, NO, 26,
	/* 1022.. */ NO, 53, NO, 21, NO, 13,
	/* 1100.. */ 95, 90, 88, 76, 76, 70,
	/* 1101.. */ 90, 77, 75, 62, 61, 53,
	/* 1102.. */ 77, 66, 68, 59, 52, 30,
	/* 1110.. */ 89, 78, 76, 67, 62, 58,
	/* 1111.. */ 74, 59, 57, 57, 47, 23,
	/* 1112.. */ 61, 52, 57, 29, 24, 16,
	/* 1120.. */ NO, 71, NO, 59, NO, 30,
	/* 1121.. */ NO, 58, NO, 26, NO, 15,
	/* 1122.. */ NO, 23, NO, 13, NO, 6,
	/* 2000.. */ 93, 87, 86, 72, 75, 58,
	/* 2001.. */ 86, 74, 74, 61, 56, 34,
	/* 2002.. */ 70, 54, 52, 40, 40, 22,
	/* 2010.. */ 85, 75, 74, 55, 62, 51,
	/* 2011.. */ 72, 57, 55, 41, 46, 19,
	/* 2012.. */ 53, 36, 34, 19, 19, 8,
	/* 2020.. */ NO, 64, NO, 51, NO, 20,
	/* 2021.. */ NO, 47, NO, 21, NO, 11,
	/* 2022.. */ NO, 24, NO, 9, NO, 4,
	/* 2100.. */ 88, 75, 73, 53, 60, 50,
	/* 2101.. */ 73, 55, 59, 40, 41, 20,
	/* 2102.. */ 54, 43, 45, 22, 20, 11,
	/* 2110.. */ 75, 55, 58, 45, 40, 21,
	/* 2111.. */ 61, 51, 48, 18, 20, 9,
	/* 2112.. */ 46, 18, 17, 7, 8, 2,
	/* 2120.. */ NO, 53, NO, 24, NO, 14,
	/* 2121.. */ NO, 24, NO, 12, NO, 5,
	/* 2122.. */ NO, 10, NO, 3, NO, 1,
};

#undef NO

#endif
