"""The curated CTCAE v5.0 term dictionary shipped with the product.

`BUILTIN_TERMS` holds, verbatim from the official NCI sheet (CTCAE_v5.0_2017-11-27.xlsx, outer
whitespace stripped, "-" grades as None), every term `ecrf.domain.ctcae_grading` can return, the
bleeding terms relevant to ITP, and the common toxicities of the trial drugs (tacrolimus,
danazol, ATRA, rituximab, corticosteroids). The data was generated once from the sheet and is
committed as literal Python so the product does not need the sheet at run time;
tests/domain/test_ctcae_terms.py checks it against the sheet. The full dictionary (837 terms)
is loaded with `ecrf.domain.ctcae_import.parse_ctcae_workbook`.

Where the sheet names a concept differently from everyday usage: gum bleeding is "Oral
hemorrhage", acne is "Rash acneiform", ATRA differentiation syndrome is "Retinoic acid
syndrome", lip disorders are "Cheilitis", and retinal bleeding is reported as "Vitreous
hemorrhage" (v5.0 has no "Retinal hemorrhage" term).
"""

# The official texts are kept on one line each so that they can be compared with the sheet.
# ruff: noqa: E501

from __future__ import annotations

import re
from dataclasses import dataclass

from ecrf.domain.errors import DomainError

GRADE_COUNT = 5
_MEDDRA_CODE = re.compile(r"\d{8}")


@dataclass(frozen=True)
class CtcaeTerm:
    """One CTCAE term: `grades[0]` is the grade 1 text; None where the grade does not exist."""

    meddra_code: str
    soc: str
    term: str
    grades: tuple[str | None, str | None, str | None, str | None, str | None]
    definition: str

    def __post_init__(self) -> None:
        if not _MEDDRA_CODE.fullmatch(self.meddra_code):
            raise DomainError("meddra_code", f"{self.meddra_code!r} is not an 8-digit MedDRA code")
        if len(self.grades) != GRADE_COUNT:
            raise DomainError(
                "grades", f"expected {GRADE_COUNT} grade texts, got {len(self.grades)}"
            )

    @property
    def existing_grades(self) -> tuple[int, ...]:
        """The grades (1-5) this term defines, e.g. (1, 2) for Bruising."""
        return tuple(grade for grade, text in enumerate(self.grades, start=1) if text is not None)

    def grade_text(self, grade: int) -> str | None:
        """The criterion text of a grade (1-5), None if the term has no such grade."""
        if not 1 <= grade <= GRADE_COUNT:
            raise DomainError("grade", f"CTCAE grades run from 1 to {GRADE_COUNT}, got {grade}")
        return self.grades[grade - 1]


def builtin_term(term_or_code: str) -> CtcaeTerm:
    """The built-in term with this MedDRA code or CTCAE term name (case-insensitive)."""
    key = term_or_code.strip()
    found = _BY_CODE.get(key) or _BY_NAME.get(key.casefold())
    if found is None:
        raise DomainError("term", f"{term_or_code!r} is not a built-in CTCAE v5.0 term")
    return found


BUILTIN_TERMS: tuple[CtcaeTerm, ...] = (
    CtcaeTerm(
        meddra_code="10002272",
        soc="Blood and lymphatic system disorders",
        term="Anemia",
        grades=(
            "Hemoglobin (Hgb) <LLN - 10.0 g/dL; <LLN - 6.2 mmol/L; <LLN - 100 g/L",
            "Hgb <10.0 - 8.0 g/dL; <6.2 - 4.9 mmol/L; <100 - 80g/L",
            "Hgb <8.0 g/dL; <4.9 mmol/L; <80 g/L; transfusion indicated",
            "Life-threatening consequences; urgent intervention indicated",
            "Death",
        ),
        definition="A disorder characterized by a reduction in the amount of hemoglobin in 100 ml of blood. Signs and symptoms of anemia may include pallor of the skin and mucous membranes, shortness of breath, palpitations of the heart, soft systolic murmurs, lethargy, and fatigability.",
    ),
    CtcaeTerm(
        meddra_code="10016288",
        soc="Blood and lymphatic system disorders",
        term="Febrile neutropenia",
        grades=(
            None,
            None,
            "ANC <1000/mm3 with a single temperature of >38.3 degrees C (101 degrees F) or a sustained temperature of >=38 degrees C (100.4 degrees F) for more than one hour",
            "Life-threatening consequences; urgent intervention indicated",
            "Death",
        ),
        definition="A disorder characterized by an ANC <1000/mm3 and a single temperature of >38.3 degrees C (101 degrees F) or a sustained temperature of >=38 degrees C (100.4 degrees F) for more than one hour",
    ),
    CtcaeTerm(
        meddra_code="10011655",
        soc="Endocrine disorders",
        term="Cushingoid",
        grades=(
            "Mild symptoms; intervention not indicated",
            "Moderate symptoms; medical intervention indicated",
            "Severe symptoms, medical intervention or hospitalization indicated",
            None,
            None,
        ),
        definition="A disorder characterized by signs and symptoms that resemble Cushing's disease or syndrome: buffalo hump obesity, striations, adiposity, hypertension, diabetes, and osteoporosis, usually due to exogenous corticosteroids.",
    ),
    CtcaeTerm(
        meddra_code="10047488",
        soc="Endocrine disorders",
        term="Virilization",
        grades=(
            "Mild symptoms; intervention not indicated",
            "Moderate symptoms; medical intervention indicated",
            None,
            None,
            None,
        ),
        definition="A disorder characterized by inappropriate masculinization occurring in a female or prepubertal male.",
    ),
    CtcaeTerm(
        meddra_code="10007739",
        soc="Eye disorders",
        term="Cataract",
        grades=(
            "Asymptomatic; clinical or diagnostic observations only; intervention not indicated",
            "Symptomatic; moderate decrease in visual acuity (best corrected visual acuity 20/40 and better or 3 lines or less decreased vision from known baseline); glare symptoms affecting instrumental ADL",
            "Symptomatic with marked decrease in visual acuity (best corrected visual acuity worse than 20/40 or more than 3 lines of decreased vision from known baseline, up to 20/200); limiting self care ADL",
            "Best corrected visual acuity of 20/200 or worse in the affected eye",
            None,
        ),
        definition="A disorder characterized by partial or complete opacity of the crystalline lens of one or both eyes. This results in a decrease in visual acuity and eventual blindness if untreated.",
    ),
    CtcaeTerm(
        meddra_code="10013774",
        soc="Eye disorders",
        term="Dry eye",
        grades=(
            "Asymptomatic; clinical or diagnostic observations only; symptoms relieved by lubricants",
            "Symptomatic; moderate decrease in visual acuity (best corrected visual acuity 20/40 and better or 3 lines or less decreased vision from known baseline)",
            "Symptomatic with marked decrease in visual acuity (best corrected visual acuity worse than 20/40 or more than 3 lines of decreased vision from known baseline, up to 20/200); limiting self care ADL",
            None,
            None,
        ),
        definition="A disorder characterized by dryness of the cornea and conjunctiva.",
    ),
    CtcaeTerm(
        meddra_code="10018304",
        soc="Eye disorders",
        term="Glaucoma",
        grades=(
            "Less than 8 mmHg of elevated intraocular pressure (EIOP); no visual field deficit",
            "EIOP which can be reduced to 21 mmHg or under with topical medications and no visual field deficit",
            "EIOP causing visual field deficits",
            "Visual field deficit within the central 10 degrees of the visual field in the affected eye",
            None,
        ),
        definition="A disorder characterized by an increase in pressure in the eyeball due to obstruction of the aqueous humor outflow.",
    ),
    CtcaeTerm(
        meddra_code="10047656",
        soc="Eye disorders",
        term="Vitreous hemorrhage",
        grades=(
            "Intervention not indicated",
            "Symptomatic; moderate decrease in visual acuity (best corrected visual acuity 20/40 and better or 3 lines or less decreased vision from known baseline); limiting instrumental ADL",
            "Symptomatic with marked decrease in visual acuity (best corrected visual acuity worse than 20/40 or more than 3 lines of decreased vision from known baseline, up to 20/200); limiting self care ADL; vitrectomy indicated",
            "Best corrected visual acuity of 20/200 or worse in the affected eye",
            None,
        ),
        definition="A disorder characterized by bleeding into the vitreous humor.",
    ),
    CtcaeTerm(
        meddra_code="10008417",
        soc="Gastrointestinal disorders",
        term="Cheilitis",
        grades=(
            "Asymptomatic; clinical or diagnostic observations only; intervention not indicated",
            "Moderate symptoms; limiting instrumental ADL",
            "Severe symptoms; limiting self care ADL; intervention indicated",
            None,
            None,
        ),
        definition="A disorder characterized by inflammation of the lip.",
    ),
    CtcaeTerm(
        meddra_code="10012727",
        soc="Gastrointestinal disorders",
        term="Diarrhea",
        grades=(
            "Increase of <4 stools per day over baseline; mild increase in ostomy output compared to baseline",
            "Increase of 4 - 6 stools per day over baseline; moderate increase in ostomy output compared to baseline; limiting instrumental ADL",
            "Increase of >=7 stools per day over baseline; hospitalization indicated; severe increase in ostomy output compared to baseline; limiting self care ADL",
            "Life-threatening consequences; urgent intervention indicated",
            "Death",
        ),
        definition="A disorder characterized by an increase in frequency and/or loose or watery bowel movements.",
    ),
    CtcaeTerm(
        meddra_code="10013781",
        soc="Gastrointestinal disorders",
        term="Dry mouth",
        grades=(
            "Symptomatic (e.g., dry or thick saliva) without significant dietary alteration; unstimulated saliva flow >0.2 ml/min",
            "Moderate symptoms; oral intake alterations (e.g., copious water, other lubricants, diet limited to purees and/or soft, moist foods); unstimulated saliva 0.1 to 0.2 ml/min",
            "Inability to adequately aliment orally; tube feeding or TPN indicated; unstimulated saliva <0.1 ml/min",
            None,
            None,
        ),
        definition="A disorder characterized by reduced salivary flow in the oral cavity.",
    ),
    CtcaeTerm(
        meddra_code="10013946",
        soc="Gastrointestinal disorders",
        term="Dyspepsia",
        grades=(
            "Mild symptoms; intervention not indicated",
            "Moderate symptoms; medical intervention indicated",
            "Severe symptoms; operative intervention indicated",
            None,
            None,
        ),
        definition="A disorder characterized by an uncomfortable, often painful feeling in the stomach, resulting from impaired digestion. Symptoms include burning stomach, bloating, heartburn, nausea and vomiting.",
    ),
    CtcaeTerm(
        meddra_code="10017789",
        soc="Gastrointestinal disorders",
        term="Gastric hemorrhage",
        grades=(
            "Mild symptoms; intervention not indicated",
            "Moderate symptoms; intervention indicated",
            "Transfusion indicated; invasive intervention indicated; hospitalization",
            "Life-threatening consequences; urgent intervention indicated",
            "Death",
        ),
        definition="A disorder characterized by bleeding from the gastric wall.",
    ),
    CtcaeTerm(
        meddra_code="10017822",
        soc="Gastrointestinal disorders",
        term="Gastric ulcer",
        grades=(
            "Asymptomatic; clinical or diagnostic observations only; intervention not indicated",
            "Symptomatic; altered GI function; medical intervention indicated; limiting instrumental ADL",
            "Severely altered GI function; TPN indicated; elective invasive intervention indicated; limiting self care ADL",
            "Life-threatening consequences; urgent operative intervention indicated",
            "Death",
        ),
        definition="A disorder characterized by a circumscribed, erosive lesion on the mucosal surface of the stomach.",
    ),
    CtcaeTerm(
        meddra_code="10051746",
        soc="Gastrointestinal disorders",
        term="Lower gastrointestinal hemorrhage",
        grades=(
            "Mild symptoms; intervention not indicated",
            "Moderate symptoms; intervention indicated",
            "Transfusion indicated; invasive intervention indicated; hospitalization",
            "Life-threatening consequences; urgent intervention indicated",
            "Death",
        ),
        definition="A disorder characterized by bleeding from the lower gastrointestinal tract (small intestine, large intestine, and anus).",
    ),
    CtcaeTerm(
        meddra_code="10028813",
        soc="Gastrointestinal disorders",
        term="Nausea",
        grades=(
            "Loss of appetite without alteration in eating habits",
            "Oral intake decreased without significant weight loss, dehydration or malnutrition",
            "Inadequate oral caloric or fluid intake; tube feeding, TPN, or hospitalization indicated",
            None,
            None,
        ),
        definition="A disorder characterized by a queasy sensation and/or the urge to vomit.",
    ),
    CtcaeTerm(
        meddra_code="10030980",
        soc="Gastrointestinal disorders",
        term="Oral hemorrhage",
        grades=(
            "Mild symptoms; intervention not indicated",
            "Moderate symptoms; intervention indicated",
            "Transfusion indicated; invasive intervention indicated; hospitalization",
            "Life-threatening consequences; urgent intervention indicated",
            "Death",
        ),
        definition="A disorder characterized by bleeding from the mouth.",
    ),
    CtcaeTerm(
        meddra_code="10038064",
        soc="Gastrointestinal disorders",
        term="Rectal hemorrhage",
        grades=(
            "Mild symptoms; intervention not indicated",
            "Moderate symptoms; intervention indicated",
            "Transfusion indicated; invasive intervention indicated; hospitalization",
            "Life-threatening consequences; urgent intervention indicated",
            "Death",
        ),
        definition="A disorder characterized by bleeding from the rectal wall and discharged from the anus.",
    ),
    CtcaeTerm(
        meddra_code="10055356",
        soc="Gastrointestinal disorders",
        term="Upper gastrointestinal hemorrhage",
        grades=(
            "Mild symptoms; intervention not indicated",
            "Moderate symptoms; intervention indicated",
            "Transfusion indicated; invasive intervention indicated; hospitalization",
            "Life-threatening consequences; urgent intervention indicated",
            "Death",
        ),
        definition="A disorder characterized by bleeding from the upper gastrointestinal tract (oral cavity, pharynx, esophagus, and stomach).",
    ),
    CtcaeTerm(
        meddra_code="10047700",
        soc="Gastrointestinal disorders",
        term="Vomiting",
        grades=(
            "Intervention not indicated",
            "Outpatient IV hydration; medical intervention indicated",
            "Tube feeding, TPN, or hospitalization indicated",
            "Life-threatening consequences",
            "Death",
        ),
        definition="A disorder characterized by the reflexive act of ejecting the contents of the stomach through the mouth.",
    ),
    CtcaeTerm(
        meddra_code="10008531",
        soc="General disorders and administration site conditions",
        term="Chills",
        grades=(
            "Mild sensation of cold; shivering; chattering of teeth",
            "Moderate tremor of the entire body; narcotics indicated",
            "Severe or prolonged, not responsive to narcotics",
            None,
            None,
        ),
        definition="A disorder characterized by a sensation of cold that often marks a physiologic response to sweating after a fever.",
    ),
    CtcaeTerm(
        meddra_code="10050068",
        soc="General disorders and administration site conditions",
        term="Edema limbs",
        grades=(
            "5 - 10% inter-limb discrepancy in volume or circumference at point of greatest visible difference; swelling or obscuration of anatomic architecture on close inspection",
            ">10 - 30% inter-limb discrepancy in volume or circumference at point of greatest visible difference; readily apparent obscuration of anatomic architecture; obliteration of skin folds; readily apparent deviation from normal anatomic contour; limiting instrumental ADL",
            ">30% inter-limb discrepancy in volume; gross deviation from normal anatomic contour; limiting self care ADL",
            None,
            None,
        ),
        definition="A disorder characterized by swelling due to excessive fluid accumulation in the upper or lower extremities.",
    ),
    CtcaeTerm(
        meddra_code="10016256",
        soc="General disorders and administration site conditions",
        term="Fatigue",
        grades=(
            "Fatigue relieved by rest",
            "Fatigue not relieved by rest; limiting instrumental ADL",
            "Fatigue not relieved by rest, limiting self care ADL",
            None,
            None,
        ),
        definition="A disorder characterized by a state of generalized weakness with a pronounced inability to summon sufficient energy to accomplish daily activities.",
    ),
    CtcaeTerm(
        meddra_code="10016558",
        soc="General disorders and administration site conditions",
        term="Fever",
        grades=(
            "38.0 - 39.0 degrees C (100.4 - 102.2 degrees F)",
            ">39.0 - 40.0 degrees C (102.3 - 104.0 degrees F)",
            ">40.0 degrees C (>104.0 degrees F) for <=24 hrs",
            ">40.0 degrees C (>104.0 degrees F) for >24 hrs",
            "Death",
        ),
        definition="A disorder characterized by elevation of the body's temperature above the upper limit of normal.",
    ),
    CtcaeTerm(
        meddra_code="10001718",
        soc="Immune system disorders",
        term="Allergic reaction",
        grades=(
            "Systemic intervention not indicated",
            "Oral intervention indicated",
            "Bronchospasm; hospitalization indicated for clinical sequelae; intravenous intervention indicated",
            "Life-threatening consequences; urgent intervention indicated",
            "Death",
        ),
        definition="A disorder characterized by an adverse local or general response from exposure to an allergen.",
    ),
    CtcaeTerm(
        meddra_code="10002218",
        soc="Immune system disorders",
        term="Anaphylaxis",
        grades=(
            None,
            None,
            "Symptomatic bronchospasm, with or without urticaria; parenteral intervention indicated; allergy-related edema/angioedema; hypotension",
            "Life-threatening consequences; urgent intervention indicated",
            "Death",
        ),
        definition="A disorder characterized by an acute inflammatory reaction resulting from the release of histamine and histamine-like substances from mast cells, causing a hypersensitivity immune response. Clinically, it presents with breathing difficulty, dizziness, hypotension, cyanosis and loss of consciousness and may lead to death.",
    ),
    CtcaeTerm(
        meddra_code="10040400",
        soc="Immune system disorders",
        term="Serum sickness",
        grades=(
            "Asymptomatic; clinical or diagnostic observations only; intervention not indicated",
            "Moderate arthralgia; fever, rash, urticaria, antihistamines indicated",
            "Severe arthralgia or arthritis; extensive rash; steroids or IV fluids indicated",
            "Life-threatening consequences; pressor or ventilatory support indicated",
            "Death",
        ),
        definition="A disorder characterized by a delayed-type hypersensitivity reaction to foreign proteins derived from an animal serum. It occurs approximately six to twenty-one days following the administration of the foreign antigen. Symptoms include fever, arthralgias, myalgias, skin eruptions, lymphadenopathy, chest marked discomfort and dyspnea.",
    ),
    CtcaeTerm(
        meddra_code="10058827",
        soc="Infections and infestations",
        term="Hepatitis B reactivation",
        grades=(
            "Asymptomatic or mild symptoms; clinical or diagnostic observations only; intervention not indicated",
            "Moderate symptoms; medical intervention indicated",
            "Severe or medically significant but not immediately life-threatening; hospitalization or prolongation of existing hospitalization indicated; IV intervention indicated",
            "Life-threatening consequences; urgent intervention indicated; severe decompensated liver function (e.g., coagulopathy, encephalopathy, coma)",
            "Death",
        ),
        definition="A disorder characterized by the reactivation of hepatitis B virus.",
    ),
    CtcaeTerm(
        meddra_code="10061229",
        soc="Infections and infestations",
        term="Lung infection",
        grades=(
            None,
            "Moderate symptoms; oral intervention indicated (e.g., antibiotic, antifungal, or antiviral)",
            "IV antibiotic, antifungal, or antiviral intervention indicated; invasive intervention indicated",
            "Life-threatening consequences; urgent intervention indicated",
            "Death",
        ),
        definition="A disorder characterized by an infectious process involving the lungs, including pneumonia.",
    ),
    CtcaeTerm(
        meddra_code="10040047",
        soc="Infections and infestations",
        term="Sepsis",
        grades=(
            None,
            None,
            "Blood culture positive with signs or symptoms; treatment indicated",
            "Life-threatening consequences; urgent intervention indicated",
            "Death",
        ),
        definition="A disorder characterized by the presence of pathogenic microorganisms in the blood stream that cause a rapidly progressing systemic reaction that may lead to shock.",
    ),
    CtcaeTerm(
        meddra_code="10046300",
        soc="Infections and infestations",
        term="Upper respiratory infection",
        grades=(
            None,
            "Moderate symptoms; oral intervention indicated (e.g., antibiotic, antifungal, or antiviral)",
            "IV antibiotic, antifungal, or antiviral intervention indicated; invasive intervention indicated",
            "Life-threatening consequences; urgent intervention indicated",
            "Death",
        ),
        definition="A disorder characterized by an infectious process involving the upper respiratory tract (nose, paranasal sinuses, pharynx, larynx, or trachea).",
    ),
    CtcaeTerm(
        meddra_code="10046571",
        soc="Infections and infestations",
        term="Urinary tract infection",
        grades=(
            None,
            "Localized; oral intervention indicated (e.g., antibiotic, antifungal, or antiviral)",
            "IV antibiotic, antifungal, or antiviral intervention indicated; invasive intervention indicated",
            "Life-threatening consequences; urgent intervention indicated",
            "Death",
        ),
        definition="A disorder characterized by an infectious process involving the urinary tract, most commonly the bladder and the urethra.",
    ),
    CtcaeTerm(
        meddra_code="10006504",
        soc="Injury, poisoning and procedural complications",
        term="Bruising",
        grades=(
            "Localized or in a dependent area",
            "Generalized",
            None,
            None,
            None,
        ),
        definition="A finding of injury of the soft tissues or bone characterized by leakage of blood into surrounding tissues.",
    ),
    CtcaeTerm(
        meddra_code="10051792",
        soc="Injury, poisoning and procedural complications",
        term="Infusion related reaction",
        grades=(
            "Mild transient reaction; infusion interruption not indicated; intervention not indicated",
            "Therapy or infusion interruption indicated but responds promptly to symptomatic treatment (e.g., antihistamines, NSAIDS, narcotics, IV fluids); prophylactic medications indicated for <=24 hrs",
            "Prolonged (e.g., not rapidly responsive to symptomatic medication and/or brief interruption of infusion); recurrence of symptoms following initial improvement; hospitalization indicated for clinical sequelae",
            "Life-threatening consequences; urgent intervention indicated",
            "Death",
        ),
        definition="A disorder characterized by adverse reaction to the infusion of pharmacological or biological substances.",
    ),
    CtcaeTerm(
        meddra_code="10001551",
        soc="Investigations",
        term="Alanine aminotransferase increased",
        grades=(
            ">ULN - 3.0 x ULN if baseline was normal; 1.5 - 3.0 x baseline if baseline was abnormal",
            ">3.0 - 5.0 x ULN if baseline was normal; >3.0 - 5.0 x baseline if baseline was abnormal",
            ">5.0 - 20.0 x ULN if baseline was normal; >5.0 - 20.0 x baseline if baseline was abnormal",
            ">20.0 x ULN if baseline was normal; >20.0 x baseline if baseline was abnormal",
            None,
        ),
        definition="A finding based on laboratory test results that indicate an increase in the level of alanine aminotransferase (ALT or SGPT) in the blood specimen.",
    ),
    CtcaeTerm(
        meddra_code="10001675",
        soc="Investigations",
        term="Alkaline phosphatase increased",
        grades=(
            ">ULN - 2.5 x ULN if baseline was normal; 2.0 - 2.5 x baseline if baseline was abnormal",
            ">2.5 - 5.0 x ULN if baseline was normal; >2.5 - 5.0 x baseline if baseline was abnormal",
            ">5.0 - 20.0 x ULN if baseline was normal; >5.0 - 20.0 x baseline if baseline was abnormal",
            ">20.0 x ULN if baseline was normal; >20.0 x baseline if baseline was abnormal",
            None,
        ),
        definition="A finding based on laboratory test results that indicate an increase in the level of alkaline phosphatase in a blood specimen.",
    ),
    CtcaeTerm(
        meddra_code="10003481",
        soc="Investigations",
        term="Aspartate aminotransferase increased",
        grades=(
            ">ULN - 3.0 x ULN if baseline was normal; 1.5 - 3.0 x baseline if baseline was abnormal",
            ">3.0 - 5.0 x ULN if baseline was normal; >3.0 - 5.0 x baseline if baseline was abnormal",
            ">5.0 - 20.0 x ULN if baseline was normal; >5.0 - 20.0 x baseline if baseline was abnormal",
            ">20.0 x ULN if baseline was normal; >20.0 x baseline if baseline was abnormal",
            None,
        ),
        definition="A finding based on laboratory test results that indicate an increase in the level of aspartate aminotransferase (AST or SGOT) in a blood specimen.",
    ),
    CtcaeTerm(
        meddra_code="10005364",
        soc="Investigations",
        term="Blood bilirubin increased",
        grades=(
            ">ULN - 1.5 x ULN if baseline was normal; > 1.0 - 1.5 x baseline if baseline was abnormal",
            ">1.5 - 3.0 x ULN if baseline was normal; >1.5 - 3.0 x baseline if baseline was abnormal",
            ">3.0 - 10.0 x ULN if baseline was normal; >3.0 - 10.0 x baseline if baseline was abnormal",
            ">10.0 x ULN if baseline was normal; >10.0 x baseline if baseline was abnormal",
            None,
        ),
        definition="A finding based on laboratory test results that indicate an abnormally high level of bilirubin in the blood. Excess bilirubin is associated with jaundice.",
    ),
    CtcaeTerm(
        meddra_code="10008661",
        soc="Investigations",
        term="Cholesterol high",
        grades=(
            ">ULN - 300 mg/dL; >ULN - 7.75 mmol/L",
            ">300 - 400 mg/dL; >7.75 - 10.34 mmol/L",
            ">400 - 500 mg/dL; >10.34 - 12.92 mmol/L",
            ">500 mg/dL; >12.92 mmol/L",
            None,
        ),
        definition="A finding based on laboratory test results that indicate higher than normal levels of cholesterol in a blood specimen.",
    ),
    CtcaeTerm(
        meddra_code="10011368",
        soc="Investigations",
        term="Creatinine increased",
        grades=(
            ">ULN - 1.5 x ULN",
            ">1.5 - 3.0 x baseline; >1.5 - 3.0 x ULN",
            ">3.0 x baseline; >3.0 - 6.0 x ULN",
            ">6.0 x ULN",
            None,
        ),
        definition="A finding based on laboratory test results that indicate increased levels of creatinine in a biological specimen.",
    ),
    CtcaeTerm(
        meddra_code="10056910",
        soc="Investigations",
        term="GGT increased",
        grades=(
            ">ULN - 2.5 x ULN if baseline was normal; 2.0 - 2.5 x baseline if baseline was abnormal",
            ">2.5 - 5.0 x ULN if baseline was normal; >2.5 - 5.0 x baseline if baseline was abnormal",
            ">5.0 - 20.0 x ULN if baseline was normal; >5.0 - 20.0 x baseline if baseline was abnormal",
            ">20.0 x ULN if baseline was normal; >20.0 x baseline if baseline was abnormal",
            None,
        ),
        definition="A finding based on laboratory test results that indicate higher than normal levels of the enzyme gamma-glutamyltransferase in the blood specimen. GGT (gamma-glutamyltransferase ) catalyzes the transfer of a gamma glutamyl group from a gamma glutamyl peptide to another peptide, amino acids or water.",
    ),
    CtcaeTerm(
        meddra_code="10025256",
        soc="Investigations",
        term="Lymphocyte count decreased",
        grades=(
            "<LLN - 800/mm3; <LLN - 0.8 x 10e9/L",
            "<800 - 500/mm3; <0.8 - 0.5 x 10e9 /L",
            "<500 - 200/mm3; <0.5 - 0.2 x 10e9 /L",
            "<200/mm3; <0.2 x 10e9 /L",
            None,
        ),
        definition="A finding based on laboratory test results that indicate a decrease in number of lymphocytes in a blood specimen.",
    ),
    CtcaeTerm(
        meddra_code="10025258",
        soc="Investigations",
        term="Lymphocyte count increased",
        grades=(
            None,
            ">4000/mm3 - 20,000/mm3",
            ">20,000/mm3",
            None,
            None,
        ),
        definition="A finding based on laboratory test results that indicate an abnormal increase in the number of lymphocytes in the blood, effusions or bone marrow.",
    ),
    CtcaeTerm(
        meddra_code="10029366",
        soc="Investigations",
        term="Neutrophil count decreased",
        grades=(
            "<LLN - 1500/mm3; <LLN - 1.5 x 10e9 /L",
            "<1500 - 1000/mm3; <1.5 - 1.0 x 10e9 /L",
            "<1000 - 500/mm3; <1.0 - 0.5 x 10e9 /L",
            "<500/mm3; <0.5 x 10e9 /L",
            None,
        ),
        definition="A finding based on laboratory test results that indicate a decrease in number of neutrophils in a blood specimen.",
    ),
    CtcaeTerm(
        meddra_code="10035528",
        soc="Investigations",
        term="Platelet count decreased",
        grades=(
            "<LLN - 75,000/mm3; <LLN - 75.0 x 10e9 /L",
            "<75,000 - 50,000/mm3; <75.0 - 50.0 x 10e9 /L",
            "<50,000 - 25,000/mm3; <50.0 - 25.0 x 10e9 /L",
            "<25,000/mm3; <25.0 x 10e9 /L",
            None,
        ),
        definition="A finding based on laboratory test results that indicate a decrease in number of platelets in a blood specimen.",
    ),
    CtcaeTerm(
        meddra_code="10047896",
        soc="Investigations",
        term="Weight gain",
        grades=(
            "5 - <10% from baseline",
            "10 - <20% from baseline",
            ">=20% from baseline",
            None,
            None,
        ),
        definition="A finding characterized by an unexpected or abnormal increase in overall body weight; for pediatrics, greater than the baseline growth curve.",
    ),
    CtcaeTerm(
        meddra_code="10049182",
        soc="Investigations",
        term="White blood cell decreased",
        grades=(
            "<LLN - 3000/mm3; <LLN - 3.0 x 10e9 /L",
            "<3000 - 2000/mm3; <3.0 - 2.0 x 10e9 /L",
            "<2000 - 1000/mm3; <2.0 - 1.0 x 10e9 /L",
            "<1000/mm3; <1.0 x 10e9 /L",
            None,
        ),
        definition="A finding based on laboratory test results that indicate an decrease in number of white blood cells in a blood specimen.",
    ),
    CtcaeTerm(
        meddra_code="10020639",
        soc="Metabolism and nutrition disorders",
        term="Hyperglycemia",
        grades=(
            "Abnormal glucose above baseline with no medical intervention",
            "Change in daily management from baseline for a diabetic; oral antiglycemic agent initiated; workup for diabetes",
            "Insulin therapy initiated; hospitalization indicated",
            "Life-threatening consequences; urgent intervention indicated",
            "Death",
        ),
        definition="A disorder characterized by laboratory test results that indicate an elevation in the concentration of blood sugar. It is usually an indication of diabetes mellitus or glucose intolerance.",
    ),
    CtcaeTerm(
        meddra_code="10020647",
        soc="Metabolism and nutrition disorders",
        term="Hyperkalemia",
        grades=(
            ">ULN - 5.5 mmol/L",
            ">5.5 - 6.0 mmol/L; intervention initiated",
            ">6.0 - 7.0 mmol/L; hospitalization indicated",
            ">7.0 mmol/L; life-threatening consequences",
            "Death",
        ),
        definition="A disorder characterized by laboratory test results that indicate an elevation in the concentration of potassium in the blood; associated with kidney failure or sometimes with the use of diuretic drugs.",
    ),
    CtcaeTerm(
        meddra_code="10020670",
        soc="Metabolism and nutrition disorders",
        term="Hypermagnesemia",
        grades=(
            ">ULN - 3.0 mg/dL; >ULN - 1.23 mmol/L",
            None,
            ">3.0 - 8.0 mg/dL; >1.23 - 3.30 mmol/L",
            ">8.0 mg/dL; >3.30 mmol/L; life-threatening consequences",
            "Death",
        ),
        definition="A disorder characterized by laboratory test results that indicate an elevation in the concentration of magnesium in the blood.",
    ),
    CtcaeTerm(
        meddra_code="10020870",
        soc="Metabolism and nutrition disorders",
        term="Hypertriglyceridemia",
        grades=(
            "150 mg/dL - 300 mg/dL; 1.71 mmol/L - 3.42 mmol/L",
            ">300 mg/dL - 500 mg/dL; >3.42 mmol/L - 5.7 mmol/L",
            ">500 mg/dL - 1000 mg/dL; >5.7 mmol/L - 11.4 mmol/L",
            ">1000 mg/dL; >11.4 mmol/L; life-threatening consequences",
            "Death",
        ),
        definition="A disorder characterized by laboratory test results that indicate an elevation in the concentration of triglyceride concentration in the blood.",
    ),
    CtcaeTerm(
        meddra_code="10020907",
        soc="Metabolism and nutrition disorders",
        term="Hyperuricemia",
        grades=(
            ">ULN without physiologic consequences",
            None,
            ">ULN with physiologic consequences",
            "Life-threatening consequences",
            "Death",
        ),
        definition="A disorder characterized by laboratory test results that indicate an elevation in the concentration of uric acid.",
    ),
    CtcaeTerm(
        meddra_code="10021005",
        soc="Metabolism and nutrition disorders",
        term="Hypoglycemia",
        grades=(
            "<LLN - 55 mg/dL; <LLN - 3.0 mmol/L",
            "<55 - 40 mg/dL; <3.0 - 2.2 mmol/L",
            "<40 - 30 mg/dL; <2.2 - 1.7 mmol/L",
            "<30 mg/dL; <1.7 mmol/L; life-threatening consequences; seizures",
            "Death",
        ),
        definition="A disorder characterized by laboratory test results that indicate a low concentration of glucose in the blood.",
    ),
    CtcaeTerm(
        meddra_code="10021018",
        soc="Metabolism and nutrition disorders",
        term="Hypokalemia",
        grades=(
            "<LLN - 3.0 mmol/L",
            "Symptomatic with <LLN - 3.0 mmol/L; intervention indicated",
            "<3.0 - 2.5 mmol/L; hospitalization indicated",
            "<2.5 mmol/L; life-threatening consequences",
            "Death",
        ),
        definition="A disorder characterized by laboratory test results that indicate a low concentration of potassium in the blood.",
    ),
    CtcaeTerm(
        meddra_code="10021028",
        soc="Metabolism and nutrition disorders",
        term="Hypomagnesemia",
        grades=(
            "<LLN - 1.2 mg/dL; <LLN - 0.5 mmol/L",
            "<1.2 - 0.9 mg/dL; <0.5 - 0.4 mmol/L",
            "<0.9 - 0.7 mg/dL; <0.4 - 0.3 mmol/L",
            "<0.7 mg/dL; <0.3 mmol/L; life-threatening consequences",
            "Death",
        ),
        definition="A disorder characterized by laboratory test results that indicate a low concentration of magnesium in the blood.",
    ),
    CtcaeTerm(
        meddra_code="10003239",
        soc="Musculoskeletal and connective tissue disorders",
        term="Arthralgia",
        grades=(
            "Mild pain",
            "Moderate pain; limiting instrumental ADL",
            "Severe pain; limiting self care ADL",
            None,
            None,
        ),
        definition="A disorder characterized by a sensation of marked discomfort in a joint.",
    ),
    CtcaeTerm(
        meddra_code="10006002",
        soc="Musculoskeletal and connective tissue disorders",
        term="Bone pain",
        grades=(
            "Mild pain",
            "Moderate pain; limiting instrumental ADL",
            "Severe pain; limiting self care ADL",
            None,
            None,
        ),
        definition="A disorder characterized by a sensation of marked discomfort in the bones.",
    ),
    CtcaeTerm(
        meddra_code="10062572",
        soc="Musculoskeletal and connective tissue disorders",
        term="Generalized muscle weakness",
        grades=(
            "Symptomatic; perceived by patient but not evident on physical exam",
            "Symptomatic; evident on physical exam; limiting instrumental ADL",
            "Limiting self care ADL",
            None,
            None,
        ),
        definition="A disorder characterized by a reduction in the strength of muscles in multiple anatomic sites.",
    ),
    CtcaeTerm(
        meddra_code="10031264",
        soc="Musculoskeletal and connective tissue disorders",
        term="Osteonecrosis",
        grades=(
            "Asymptomatic; clinical or diagnostic observations only; intervention not indicated",
            "Symptomatic; medical intervention indicated (e.g., analgesics or bisphosphonates); limiting instrumental ADL",
            "Severe symptoms; limiting self care ADL; elective operative intervention indicated",
            "Life-threatening consequences; urgent intervention indicated",
            "Death",
        ),
        definition="A disorder characterized by necrotic changes in the bone tissue due to interruption of blood supply. Most often affecting the epiphysis of the long bones, the necrotic changes result in the collapse and the destruction of the bone structure.",
    ),
    CtcaeTerm(
        meddra_code="10031282",
        soc="Musculoskeletal and connective tissue disorders",
        term="Osteoporosis",
        grades=(
            "Adult: Radiologic evidence of osteoporosis or Bone Mineral Density (BMD) t-score -1 to -2.5 (osteopenia); \n\nPediatric: Radiologic evidence of low BMD with z score of <= -2.0 and no history of significant fractures",
            "Adult: BMD t-score < -2.5; loss of height <2 cm; therapy to improve BMD indicated; limiting instrumental ADL;\n\nPediatric: Low BMD (z-score <= -2.0) and significant fracture history (defined as a long bone fracture of the lower extremity, vertebral compression, 2 or more long bone fractures of the upper extremities); therapy to improve BMD indicated",
            "Adult: Loss of height >=2 cm; hospitalization indicated; limiting self care ADL; \n\nPediatric: Limiting self care ADL",
            None,
            None,
        ),
        definition="A disorder characterized by reduced bone mass, with a decrease in cortical thickness and in the number and size of the trabeculae of cancellous bone (but normal chemical composition), resulting in increased fracture incidence.",
    ),
    CtcaeTerm(
        meddra_code="10019211",
        soc="Nervous system disorders",
        term="Headache",
        grades=(
            "Mild pain",
            "Moderate pain; limiting instrumental ADL",
            "Severe pain; limiting self care ADL",
            None,
            None,
        ),
        definition="A disorder characterized by a sensation of marked discomfort in various parts of the head, not confined to the area of distribution of any nerve.",
    ),
    CtcaeTerm(
        meddra_code="10022763",
        soc="Nervous system disorders",
        term="Intracranial hemorrhage",
        grades=(
            "Asymptomatic; clinical or diagnostic observations only; intervention not indicated",
            "Moderate symptoms; intervention indicated",
            "Ventriculostomy, ICP monitoring, intraventricular thrombolysis, or invasive intervention indicated; hospitalization",
            "Life-threatening consequences; urgent intervention indicated",
            "Death",
        ),
        definition="A disorder characterized by bleeding from the cranium.",
    ),
    CtcaeTerm(
        meddra_code="10033987",
        soc="Nervous system disorders",
        term="Paresthesia",
        grades=(
            "Mild symptoms",
            "Moderate symptoms; limiting instrumental ADL",
            "Severe symptoms; limiting self care ADL",
            None,
            None,
        ),
        definition="A disorder characterized by functional disturbances of sensory neurons resulting in abnormal cutaneous sensations of tingling, numbness, pressure, cold, and/or warmth.",
    ),
    CtcaeTerm(
        meddra_code="10063761",
        soc="Nervous system disorders",
        term="Reversible posterior leukoencephalopathy syndrome",
        grades=(
            None,
            "Moderate symptoms; limiting instrumental ADL",
            "Severe symptoms; limiting self care ADL; hospitalization",
            "Life-threatening consequences",
            "Death",
        ),
        definition="A disorder characterized by headaches, mental status changes, visual disturbances, and/or seizures associated with imaging findings of posterior leukoencephalopathy. It has been observed in association with hypertensive encephalopathy, eclampsia, and immunosuppressive and cytotoxic drug treatment. It is an acute or subacute reversible condition. Also known as posterior reversible encephalopathy syndrome (PRES).",
    ),
    CtcaeTerm(
        meddra_code="10044565",
        soc="Nervous system disorders",
        term="Tremor",
        grades=(
            "Mild symptoms",
            "Moderate symptoms; limiting instrumental ADL",
            "Severe symptoms; limiting self care ADL",
            None,
            None,
        ),
        definition="A disorder characterized by the uncontrolled shaking movement of the whole body or individual parts.",
    ),
    CtcaeTerm(
        meddra_code="10001497",
        soc="Psychiatric disorders",
        term="Agitation",
        grades=(
            "Mild mood alteration",
            "Moderate mood alteration",
            "Severe agitation; hospitalization not indicated",
            "Life-threatening consequences; urgent intervention indicated",
            None,
        ),
        definition="A disorder characterized by a state of restlessness associated with unpleasant feelings of irritability and tension.",
    ),
    CtcaeTerm(
        meddra_code="10012378",
        soc="Psychiatric disorders",
        term="Depression",
        grades=(
            "Mild depressive symptoms",
            "Moderate depressive symptoms; limiting instrumental ADL",
            "Severe depressive symptoms; limiting self care ADL; hospitalization not indicated",
            "Life-threatening consequences, threats of harm to self or others; hospitalization indicated",
            "Death",
        ),
        definition="A disorder characterized by melancholic feelings of grief or unhappiness.",
    ),
    CtcaeTerm(
        meddra_code="10022437",
        soc="Psychiatric disorders",
        term="Insomnia",
        grades=(
            "Mild difficulty falling asleep, staying asleep or waking up early",
            "Moderate difficulty falling asleep, staying asleep or waking up early",
            "Severe difficulty in falling asleep, staying asleep or waking up early",
            None,
            None,
        ),
        definition="A disorder characterized by difficulty in falling asleep and/or remaining asleep.",
    ),
    CtcaeTerm(
        meddra_code="10037234",
        soc="Psychiatric disorders",
        term="Psychosis",
        grades=(
            "Mild psychotic symptoms",
            "Moderate psychotic symptoms (e.g., disorganized speech; impaired reality testing)",
            "Severe psychotic symptoms (e.g., paranoid, extreme disorganization); hospitalization not indicated; new onset",
            "Life-threatening consequences, threats of harm to self or others; hospitalization indicated",
            "Death",
        ),
        definition="A disorder characterized by personality change, impaired functioning, and loss of touch with reality. It may be a manifestation of schizophrenia, bipolar disorder or brain tumor.",
    ),
    CtcaeTerm(
        meddra_code="10069339",
        soc="Renal and urinary disorders",
        term="Acute kidney injury",
        grades=(
            None,
            None,
            "Hospitalization indicated",
            "Life-threatening consequences; dialysis indicated",
            "Death",
        ),
        definition="A disorder characterized by the acute loss of renal function (within 2 weeks) and is traditionally classified as pre-renal (low blood flow into kidney), renal (kidney damage) and post-renal causes (ureteral or bladder outflow obstruction).",
    ),
    CtcaeTerm(
        meddra_code="10064848",
        soc="Renal and urinary disorders",
        term="Chronic kidney disease",
        grades=(
            "eGFR (estimated Glomerular Filtration Rate) or CrCl (creatinine clearance) <LLN - 60 ml/min/1.73 m2 or proteinuria 2+ present; urine protein/creatinine >0.5",
            "eGFR or CrCl 59 - 30 ml/min/1.73 m2",
            "eGFR or CrCl 29 - 15 ml/min/1.73 m2",
            "eGFR or CrCl <15 ml/min/1.73 m2; dialysis or renal transplant indicated",
            "Death",
        ),
        definition="A disorder characterized by gradual and usually permanent loss of kidney function resulting in renal failure.",
    ),
    CtcaeTerm(
        meddra_code="10019450",
        soc="Renal and urinary disorders",
        term="Hematuria",
        grades=(
            "Asymptomatic; clinical or diagnostic observations only; intervention not indicated",
            "Symptomatic; urinary catheter or bladder irrigation indicated; limiting instrumental ADL",
            "Gross hematuria; transfusion, IV medications, or hospitalization indicated; elective invasive intervention indicated; limiting self care ADL",
            "Life-threatening consequences; urgent invasive intervention indicated",
            "Death",
        ),
        definition="A disorder characterized by laboratory test results that indicate blood in the urine.",
    ),
    CtcaeTerm(
        meddra_code="10001927",
        soc="Reproductive system and breast disorders",
        term="Amenorrhea",
        grades=(
            None,
            "Present",
            None,
            None,
            None,
        ),
        definition="A disorder characterized by the abnormal absence of menses for at least three consecutive menstrual cycles",
    ),
    CtcaeTerm(
        meddra_code="10022992",
        soc="Reproductive system and breast disorders",
        term="Irregular menstruation",
        grades=(
            "Intermittent/irregular menses for no more than 3 consecutive menstrual cycles",
            "Intermittent/irregular menses for more than 3 consecutive menstrual cycles",
            None,
            None,
            None,
        ),
        definition="A disorder characterized by a change in cycle or duration of menses from baseline.",
    ),
    CtcaeTerm(
        meddra_code="10027313",
        soc="Reproductive system and breast disorders",
        term="Menorrhagia",
        grades=(
            "Mild; iron supplements indicated",
            "Moderate symptoms; medical intervention indicated (e.g., hormones)",
            "Severe; transfusion indicated; operative intervention indicated (e.g., hysterectomy)",
            "Life-threatening consequences; urgent intervention indicated",
            "Death",
        ),
        definition="A disorder characterized by abnormally heavy vaginal bleeding during menses.",
    ),
    CtcaeTerm(
        meddra_code="10046912",
        soc="Reproductive system and breast disorders",
        term="Vaginal hemorrhage",
        grades=(
            "Mild symptoms; intervention not indicated",
            "Moderate symptoms; intervention indicated",
            "Transfusion indicated; invasive intervention indicated; hospitalization",
            "Life-threatening consequences; urgent intervention indicated",
            "Death",
        ),
        definition="A disorder characterized by bleeding from the vagina.",
    ),
    CtcaeTerm(
        meddra_code="10015090",
        soc="Respiratory, thoracic and mediastinal disorders",
        term="Epistaxis",
        grades=(
            "Mild symptoms; intervention not indicated",
            "Moderate symptoms; medical intervention indicated (e.g., nasal packing, cauterization; topical vasoconstrictors)",
            "Transfusion; invasive intervention indicated (e.g., hemostasis of bleeding site)",
            "Life-threatening consequences; urgent intervention indicated",
            "Death",
        ),
        definition="A disorder characterized by bleeding from the nose.",
    ),
    CtcaeTerm(
        meddra_code="10038921",
        soc="Respiratory, thoracic and mediastinal disorders",
        term="Retinoic acid syndrome",
        grades=(
            "Fluid retention; <3 kg of weight gain; intervention with fluid restriction and/or diuretics indicated",
            "Moderate signs or symptoms; steroids indicated",
            "Severe symptoms; hospitalization indicated",
            "Life-threatening consequences; ventilatory support indicated",
            "Death",
        ),
        definition="A disorder characterized by weight gain, dyspnea, pleural and pericardial effusions, leukocytosis and/or renal failure originally described in patients treated with all-trans retinoic acid.",
    ),
    CtcaeTerm(
        meddra_code="10047681",
        soc="Respiratory, thoracic and mediastinal disorders",
        term="Voice alteration",
        grades=(
            "Mild or intermittent change from normal voice",
            "Moderate or persistent change from normal voice; still understandable",
            "Severe voice changes including predominantly whispered speech; may require frequent repetition or face-to-face contact for understandability; may require assistive technology",
            None,
            None,
        ),
        definition="A disorder characterized by a change in the sound and/or speed of the voice.",
    ),
    CtcaeTerm(
        meddra_code="10001760",
        soc="Skin and subcutaneous tissue disorders",
        term="Alopecia",
        grades=(
            "Hair loss of <50% of normal for that individual that is not obvious from a distance but only on close inspection; a different hair style may be required to cover the hair loss but it does not require a wig or hair piece to camouflage",
            "Hair loss of >=50% normal for that individual that is readily apparent to others; a wig or hair piece is necessary if the patient desires to completely camouflage the hair loss; associated with psychosocial impact",
            None,
            None,
            None,
        ),
        definition="A disorder characterized by a decrease in density of hair compared to normal for a given individual at a given age and body location.",
    ),
    CtcaeTerm(
        meddra_code="10013786",
        soc="Skin and subcutaneous tissue disorders",
        term="Dry skin",
        grades=(
            "Covering <10% BSA and no associated erythema or pruritus",
            "Covering 10 - 30% BSA and associated with erythema or pruritus; limiting instrumental ADL",
            "Covering >30% BSA and associated with pruritus; limiting self care ADL",
            None,
            None,
        ),
        definition="A disorder characterized by flaky and dull skin; the pores are generally fine, the texture is a papery thin texture.",
    ),
    CtcaeTerm(
        meddra_code="10020112",
        soc="Skin and subcutaneous tissue disorders",
        term="Hirsutism",
        grades=(
            "In women, increase in length, thickness or density of hair in a male distribution that the patient is able to camouflage by periodic shaving, bleaching, or removal of hair",
            "In women, increase in length, thickness or density of hair in a male distribution that requires daily shaving or consistent destructive means of hair removal to camouflage; associated with psychosocial impact",
            None,
            None,
            None,
        ),
        definition="A disorder characterized by the presence of excess hair growth in women in anatomic sites where growth is considered to be a secondary male characteristic and under androgen control (beard, moustache, chest, abdomen).",
    ),
    CtcaeTerm(
        meddra_code="10037087",
        soc="Skin and subcutaneous tissue disorders",
        term="Pruritus",
        grades=(
            "Mild or localized; topical intervention indicated",
            "Widespread and intermittent; skin changes from scratching (e.g., edema, papulation, excoriations, lichenification, oozing/crusts); oral intervention indicated; limiting instrumental ADL",
            "Widespread and constant; limiting self care ADL or sleep; systemic corticosteroid or immunosuppressive therapy indicated",
            None,
            None,
        ),
        definition="A disorder characterized by an intense itching sensation.",
    ),
    CtcaeTerm(
        meddra_code="10037549",
        soc="Skin and subcutaneous tissue disorders",
        term="Purpura",
        grades=(
            "Combined area of lesions covering <10% BSA",
            "Combined area of lesions covering 10 - 30% BSA; bleeding with trauma",
            "Combined area of lesions covering >30% BSA; spontaneous bleeding",
            None,
            None,
        ),
        definition="A disorder characterized by hemorrhagic areas of the skin and mucous membrane. Newer lesions appear reddish in color. Older lesions are usually a darker purple color and eventually become a brownish-yellow color.",
    ),
    CtcaeTerm(
        meddra_code="10037847",
        soc="Skin and subcutaneous tissue disorders",
        term="Rash acneiform",
        grades=(
            "Papules and/or pustules covering <10% BSA, which may or may not be associated with symptoms of pruritus or tenderness",
            "Papules and/or pustules covering 10 - 30% BSA, which may or may not be associated with symptoms of pruritus or tenderness; associated with psychosocial impact; limiting instrumental ADL; papules and/or pustules covering > 30% BSA with or without mild symptoms",
            "Papules and/or pustules covering >30% BSA with moderate or severe symptoms; limiting self-care ADL; associated with local superinfection with oral antibiotics indicated",
            "Life-threatening consequences; papules and/or pustules covering any % BSA, which may or may not be associated with symptoms of pruritus or tenderness and are associated with extensive superinfection with IV antibiotics indicated",
            "Death",
        ),
        definition="A disorder characterized by an eruption of papules and pustules, typically appearing in face, scalp, upper chest and back.",
    ),
    CtcaeTerm(
        meddra_code="10019428",
        soc="Vascular disorders",
        term="Hematoma",
        grades=(
            "Mild symptoms; intervention not indicated",
            "Minimally invasive evacuation or aspiration indicated",
            "Transfusion; invasive intervention indicated",
            "Life-threatening consequences; urgent intervention indicated",
            "Death",
        ),
        definition="A disorder characterized by a localized collection of blood, usually clotted, in an organ, space, or tissue, due to a break in the wall of a blood vessel.",
    ),
    CtcaeTerm(
        meddra_code="10020407",
        soc="Vascular disorders",
        term="Hot flashes",
        grades=(
            "Mild symptoms; intervention not indicated",
            "Moderate symptoms; limiting instrumental ADL",
            "Severe symptoms; limiting self care ADL",
            None,
            None,
        ),
        definition="A disorder characterized by an uncomfortable and temporary sensation of intense body warmth, flushing, sometimes accompanied by sweating upon cooling.",
    ),
    CtcaeTerm(
        meddra_code="10020772",
        soc="Vascular disorders",
        term="Hypertension",
        grades=(
            "Adult: Systolic BP 120 - 139 mm Hg or diastolic BP 80 - 89 mm Hg;\n\nPediatric: Systolic/diastolic BP >90th percentile but< 95th percentile;\n\nAdolescent: BP ≥120/80 even if < 95th percentile",
            "Adult: Systolic BP 140 - 159 mm Hg or diastolic BP 90 - 99 mm Hg if previously WNL; change in baseline medical intervention indicated; recurrent or persistent (>=24 hrs); symptomatic increase by >20 mm Hg (diastolic) or to >140/90 mm Hg; monotherapy indicated initiated;\n\nPediatric and adolescent: Recurrent or persistent (>=24 hrs) BP >ULN; monotherapy indicated; systolic and /or diastolic BP between the 95th percentile and 5 mmHg above the 99th percentile;\n\nAdolescent: Systolic between 130-139 or diastolic between 80-89 even if < 95th percentile",
            "Adult: Systolic BP >=160 mm Hg or diastolic BP >=100 mm Hg; medical intervention indicated; more than one drug or more intensive therapy than previously used indicated;\n\nPediatric and adolescent: Systolic and/or diastolic > 5 mmHg above the 99th percentile",
            "Adult and Pediatric: Life-threatening consequences (e.g., malignant hypertension, transient or permanent neurologic deficit, hypertensive crisis); urgent intervention indicated",
            "Death",
        ),
        definition="A disorder characterized by a pathological increase in blood pressure.",
    ),
)


_BY_CODE = {term.meddra_code: term for term in BUILTIN_TERMS}
_BY_NAME = {term.term.casefold(): term for term in BUILTIN_TERMS}
