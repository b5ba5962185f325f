//! Every environment's template fits in a `TemplateBody`, which is what the deploy tool
//! sends; a larger template would have to go through S3 (`TemplateURL`).

use crate::common::{environments, template};

/// CloudFormation's limit on `TemplateBody`, in bytes.
const TEMPLATE_BODY_LIMIT: usize = 51_200;

#[test]
fn every_template_fits_in_a_template_body() {
    for environment in environments() {
        let size = template(&environment).to_json_compact().len();
        eprintln!("{environment}: {size} of {TEMPLATE_BODY_LIMIT} bytes");
        assert!(
            size <= TEMPLATE_BODY_LIMIT,
            "{environment}'s template is {size} bytes, over TemplateBody's {TEMPLATE_BODY_LIMIT}: \
             deploy it through the artifact bucket (TemplateURL) instead"
        );
    }
}
